"""The HTTP API of a real ``openpose-py serve`` process over loopback: JSON as the CLI writes it, refusals, token."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from openpose_py.cli import cli
from openpose_py.decode.fields import tunable_fields
from openpose_py.skeleton import COCO_18

from .conftest import NETWORK, PHOTOS, Server, httpx


def _png_claiming(width: int, height: int) -> bytes:
    """A complete, tiny PNG file whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def cli_json(tmp_path_factory) -> dict[str, bytes]:
    """What `openpose-py image --json-dir` writes for the test photos, with the server's network options."""
    out = tmp_path_factory.mktemp("cli_json")
    result = CliRunner().invoke(cli, ["image", *map(str, PHOTOS), "--json-dir", str(out), *NETWORK])
    assert result.exit_code == 0, result.output
    return {p.name: (out / f"{p.stem}_keypoints.json").read_bytes() for p in PHOTOS}


def test_pose_json_is_byte_for_byte_the_cli_json(server: Server, cli_json: dict[str, bytes]) -> None:
    with server.client() as client:
        for photo in PHOTOS:
            raw = client.post("/v1/pose", content=photo.read_bytes(), headers={"Content-Type": "image/jpeg"})
            assert raw.status_code == 200, raw.text
            assert raw.headers["content-type"] == "application/json"
            assert raw.content == cli_json[photo.name]
            assert len(raw.json()["people"]) >= 1
            form = client.post("/v1/pose", files={"file": (photo.name, photo.read_bytes(), "image/jpeg")})
            assert form.status_code == 200, form.text
            assert form.content == cli_json[photo.name]


def test_query_options_reach_the_decoder_and_writer(server: Server) -> None:
    photo = PHOTOS[0].read_bytes()
    with server.client() as client:
        full = client.post("/v1/pose", content=photo).json()
        one = client.post("/v1/pose?number_people_max=1", content=photo).json()
        unit = client.post("/v1/pose?keypoint_scale=3&part_candidates=true", content=photo).json()
        strict = client.post("/v1/pose?min_mean_score=5", content=photo).json()
    assert len(full["people"]) > 1 and len(one["people"]) == 1
    assert one["people"][0] == full["people"][0]
    xs = np.asarray(unit["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)[:, :2]
    assert 0 <= xs.min() and xs.max() <= 1
    assert set(unit["part_candidates"][0]) == {str(k) for k in range(COCO_18.num_keypoints)}
    assert strict["people"] == []


def test_render_returns_the_picture_with_skeletons(server: Server) -> None:
    photo = PHOTOS[0]
    with server.client() as client:
        reply = client.post("/v1/pose?render=true", content=photo.read_bytes())
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    rendered = cv2.imdecode(np.frombuffer(reply.content, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imread(str(photo))
    assert rendered.shape == original.shape
    assert np.count_nonzero(np.any(rendered != original, axis=2)) > 500  # skeletons were drawn


def test_every_bad_upload_gets_its_4xx_and_the_server_keeps_serving(server: Server) -> None:
    jpeg = PHOTOS[0].read_bytes()
    png = cv2.imencode(".png", cv2.imread(str(PHOTOS[0])))[1].tobytes()
    gif_like = b"GIF89a" + b"\0" * 64
    cases = [
        ("empty body", {"content": b""}, 400, "empty"),
        ("text", {"content": b"hello, not a picture", "headers": {"Content-Type": "text/plain"}}, 415, "JPEG, PNG"),
        ("a GIF", {"content": gif_like, "headers": {"Content-Type": "image/gif"}}, 415, "not a JPEG"),
        ("truncated JPEG", {"content": jpeg[: len(jpeg) // 2]}, 400, "truncated JPEG"),
        ("truncated PNG", {"content": png[:2000]}, 400, "truncated PNG"),
        ("corrupt JPEG body", {"content": jpeg[:600] + b"\xff\xd9"}, 400, None),
        ("enormous dimensions", {"content": _png_claiming(100_000, 100_000)}, 413, "pixels"),
        ("body over the limit", {"content": jpeg * (2 * 1024 * 1024 // len(jpeg) + 1)}, 413, "limit"),
        ("multipart without a file",
         {"content": b'--zz\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--zz--\r\n',
          "headers": {"Content-Type": "multipart/form-data; boundary=zz"}}, 400, "no file"),
        ("bad query", {"content": jpeg, "params": {"peak_threshold": "high"}}, 422, "peak_threshold"),
        ("a decoder value past its range", {"content": jpeg, "params": {"min_mean_score": 5000}}, 422,
         "min_mean_score must be a number in [0, 1000]"),
    ]
    with server.client() as client:
        for name, request, status, words in cases:
            reply = client.post("/v1/pose", **request)
            assert reply.status_code == status, (name, reply.status_code, reply.text)
            body = reply.json()
            assert set(body) == {"error"} and "\n" not in body["error"], name
            if words:
                assert words in body["error"], (name, body["error"])
            good = client.post("/v1/pose", content=jpeg)
            assert good.status_code == 200 and good.json()["people"], f"no answer after {name}"
        # a wrong method or path answers in the same {"error": ...} form (it was FastAPI's {"detail": ...}), and
        # probes may use HEAD (it was 405)
        for reply, status in ((client.get("/v1/pose"), 405), (client.get("/nope"), 404),
                              (client.post("/healthz"), 405)):
            assert reply.status_code == status and set(reply.json()) == {"error"}, reply.text
        assert reply.json()["error"] == "Method Not Allowed: POST /healthz"
        assert client.head("/healthz").status_code == 200 and client.head("/readyz").status_code == 200
        # no request names a server file: a path is only ever bytes of a (bad) picture
        reply = client.post("/v1/pose", content=str(PHOTOS[0]).encode())
        assert reply.status_code == 415
        health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["ready"] is True


def test_the_token_is_required_by_every_endpoint(server: Server) -> None:
    jpeg = PHOTOS[0].read_bytes()
    with httpx.Client(base_url=server.url) as anonymous, server.client() as authorised:
        for path in ("/", "/healthz", "/readyz", "/v1/models", "/v1/skeleton", "/openapi.json", "/static/app.js"):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {server.token}"}):
                reply = anonymous.get(path, headers=headers)
                assert reply.status_code == 401, (path, headers)
                assert "bearer token" in reply.json()["error"]
            assert authorised.get(path).status_code == 200, path
        assert anonymous.post("/v1/pose", content=jpeg).status_code == 401
        assert authorised.post("/v1/pose", content=jpeg).status_code == 200
    with httpx.Client(base_url=server.url) as browser_like:  # /?token= sets the page's cookie, which carries it on
        assert browser_like.get("/static/app.js").status_code == 401
        assert browser_like.get("/", params={"token": server.token}).status_code == 200
        assert browser_like.get("/static/app.js").status_code == 200
        assert browser_like.post("/v1/pose", content=jpeg).status_code == 200


def test_models_skeleton_and_schema_describe_the_service(server: Server) -> None:
    with server.client() as client:
        models = client.get("/v1/models").json()
        skeleton = client.get("/v1/skeleton").json()
        schema = client.get("/openapi.json").json()
    assert models["model"] == "lightweight" and models["height"] == 160 and models["skeleton"] == "COCO_18"
    assert models["limits"]["max_pixels"] == 2_000_000
    assert skeleton["keypoints"] == list(COCO_18.keypoints)
    assert skeleton["limbs"] == [[limb.a, limb.b] for limb in COCO_18.render_limbs]
    assert skeleton["colors"] == [[r, g, b] for b, g, r in COCO_18.colors]
    body = schema["paths"]["/v1/pose"]["post"]["requestBody"]["content"]
    assert {"image/jpeg", "image/png", "image/webp", "multipart/form-data"} <= set(body)
    person = schema["components"]["schemas"]["OpenPosePerson"]["properties"]
    assert all(field.get("description") for field in person.values())
    # the decoder's query parameters and their ranges come from the decoder's own table (as the CLI's flags do)
    query = {p["name"]: p["schema"] for p in schema["paths"]["/v1/pose"]["post"]["parameters"]}
    for f in tunable_fields():
        assert (query[f.name]["minimum"], query[f.name]["maximum"]) == (f.low, f.high)
