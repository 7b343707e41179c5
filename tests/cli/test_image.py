"""``openpose-py image``: outputs on real photos with the real network, and every kind of bad input."""

from __future__ import annotations

import json
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from openpose_py.errors import ImageReadError, OutputError
from openpose_py.results import read_openpose_json
from openpose_py.skeleton import COCO_18

from ..conftest import require_shared
from ..test_images import png_claiming, sideways_jpeg
from .conftest import LOW, MEDIA, error_of, files_under, needs_weights

PHOTOS = ("COCO_val2014_000000000192.jpg", "COCO_val2014_000000000241.jpg", "COCO_val2014_000000000328.jpg")


@pytest.fixture
def photos(tmp_path):
    """A folder with three real photos, one corrupt JPEG and a text file (which folder expansion ignores)."""
    require_shared(MEDIA)
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    shutil.copy(MEDIA / PHOTOS[0], folder)
    shutil.copy(MEDIA / PHOTOS[1], folder)
    shutil.copy(MEDIA / PHOTOS[2], folder / "more")
    (folder / "broken.jpg").write_bytes((MEDIA / PHOTOS[0]).read_bytes()[:200])
    (folder / "README.txt").write_text("not an image")
    return folder


@needs_weights
def test_folder_run_writes_json_renders_and_coco_results_and_skips_a_corrupt_image(invoke, photos, tmp_path):
    out = tmp_path / "out"
    result = invoke("image", photos, "--json-dir", out / "json", "--render-dir", out / "render",
                    "--coco-json", out / "coco.json", "--threads", "2")
    # the corrupt image is skipped, the others done; the run says so and ends with status 1
    assert result.exit_code == 1, result.output
    assert f"Warning: failed: not a readable image: {photos / 'broken.jpg'}" in result.stderr
    assert "3 images done, 0 skipped, 1 failed" in result.stderr
    stems = ["COCO_val2014_000000000192", "COCO_val2014_000000000241", "more/COCO_val2014_000000000328"]
    assert files_under(out) == sorted(["coco.json", *(f"json/{s}_keypoints.json" for s in stems),
                                       *(f"render/{s}_rendered.png" for s in stems)])
    total = 0
    for stem in stems:
        doc = json.loads((out / "json" / f"{stem}_keypoints.json").read_text())
        assert list(doc) == ["version", "people"] and doc["version"] == 1.3
        for person in doc["people"]:
            assert person["person_id"] == [-1] and len(person["pose_keypoints_2d"]) == 3 * 18
        people = read_openpose_json(out / "json" / f"{stem}_keypoints.json", COCO_18)
        assert people, f"nobody found in {stem}"
        total += len(people)
        source = cv2.imread(str(MEDIA / f"{stem.split('/')[-1]}.jpg"))
        rendered = cv2.imread(str(out / "render" / f"{stem}_rendered.png"))
        assert rendered.shape == source.shape
        # skeletons are drawn where the keypoints are
        h, w = source.shape[:2]
        for person in people:
            for k in person.keypoints:
                if k is not None and k.score > 0.3 and 0 <= k.x < w - 0.5 and 0 <= k.y < h - 0.5:
                    x, y = int(round(k.x)), int(round(k.y))
                    assert (rendered[y, x].astype(int) - source[y, x]).any()
    coco = json.loads((out / "coco.json").read_text())
    assert len(coco) == total and {c["image_id"] for c in coco} == {192, 241, 328}


@needs_weights
def test_maps_candidates_scaled_coordinates_and_verbose_lines(invoke, tmp_path):
    photo = MEDIA / PHOTOS[1]
    result = invoke("image", photo, "--json-dir", tmp_path / "json", "--part-candidates", "--keypoint-scale", "4",
                    "--save-maps", tmp_path / "maps", "--number-people-max", "1", "--verbose", *LOW)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{photo}: 1 person"
    doc = json.loads((tmp_path / "json" / f"{photo.stem}_keypoints.json").read_text())
    assert list(doc) == ["version", "people", "part_candidates"] and len(doc["people"]) == 1
    assert sorted(doc["part_candidates"][0], key=int) == [str(k) for k in range(18)]
    values = np.array(doc["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)
    present = values[:, 2] > 0
    assert (np.abs(values[present, :2]) <= 1).all() and (values[~present] == 0).all()
    picture = cv2.imread(str(tmp_path / "maps" / f"{photo.stem}_maps.jpg"))
    source = cv2.imread(str(photo))
    assert picture.shape == (source.shape[0], 2 * source.shape[1], 3)


@needs_weights
def test_strict_mode_stops_at_the_corrupt_image_and_keeps_the_finished_ones(invoke, photos, tmp_path):
    out = tmp_path / "out"
    result = invoke("image", photos, "--json-dir", out / "json", "--render-dir", out / "render", "--strict", *LOW)
    assert result.exit_code == 1 and isinstance(result.exception, ImageReadError)
    assert "broken.jpg" in error_of(result)
    assert "Stopped by an error after 2 images" in result.stderr  # broken.jpg sorts after the upper-case names
    stems = ["COCO_val2014_000000000192", "COCO_val2014_000000000241"]
    assert files_under(out) == [f"json/{s}_keypoints.json" for s in stems] + [f"render/{s}_rendered.png" for s in stems]


@needs_weights
def test_a_render_that_cannot_be_written_stops_the_run_and_keeps_the_finished_json(console, photos, small_disk,
                                                                                  tmp_path):
    (photos / "broken.jpg").unlink()
    renders, limit = small_disk(1024 * 1024, 400 * 1024)  # a full-size render takes 430-650 KiB
    out = tmp_path / "json"
    done = subprocess.run(console.argv("image", photos, "--json-dir", out, "--render-dir", renders, *LOW),
                          preexec_fn=limit, env=console.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: cannot write {renders}/") and "_rendered.png: " in last
    assert ("No space left on device" if limit is None else "File too large") in last
    stems = ["COCO_val2014_000000000192", "COCO_val2014_000000000241", "more/COCO_val2014_000000000328"]
    kept = files_under(out)
    assert 1 <= len(kept) < 3 and kept == [f"{s}_keypoints.json" for s in stems[:len(kept)]]
    for name in kept:
        json.loads((out / name).read_text())
    # each image's JSON goes out before its render; the render that failed left nothing behind
    assert files_under(renders) == [f"{s}_rendered.png" for s in stems[:len(kept) - 1]]
    for name in files_under(renders):
        assert cv2.imread(str(renders / name)) is not None


@needs_weights
def test_usage_errors_exit_2_before_any_work(invoke, tmp_path):
    (tmp_path / "empty").mkdir()
    photo = str(MEDIA / PHOTOS[0])
    cases = [
        (("image", tmp_path / "missing.jpg"), "no such file or folder"),
        (("image", tmp_path / "empty"), "no images"),
        (("image", str(tmp_path / "*.png")), "no images match"),
        (("image", photo, "--model", "no-such-model", "--json-dir", tmp_path / "j"), "unknown weights 'no-such-model'"),
        (("image", photo, "--part-candidates"), "--part-candidates needs --json-dir"),
        (("image", photo, "--scales", "1,zero"), "comma-separated numbers"),
        (("image", photo, "--scales", "1,,0.5"), "comma-separated numbers"),  # was taken as 1,0.5
        (("image", photo, "--keypoint-scale", "2"), "'2' is not one of"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in error_of(result), (args, result.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["empty"], "no output directory was created"


@needs_weights
def test_an_unwritable_output_directory_fails_before_the_network_runs(invoke, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = invoke("image", MEDIA / PHOTOS[0], "--json-dir", blocker / "json")
    assert result.exit_code == 1 and isinstance(result.exception, OutputError)
    assert "cannot write to output directory" in error_of(result)
    # failure: a --summary-json that cannot be written was found out only after every image was done
    result = invoke("image", MEDIA / PHOTOS[0], "--json-dir", tmp_path / "json", "--summary-json",
                    blocker / "summary.json")
    assert result.exit_code == 1, result.output
    assert error_of(result) == f"cannot write to output directory {blocker}: {blocker} is a file, not a folder"
    assert not (tmp_path / "json").exists()


@needs_weights
def test_console_script_runs_and_reports_errors_in_one_line(console, tmp_path):
    done = console("image", MEDIA / PHOTOS[0], "--json-dir", tmp_path, *LOW)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / f"{PHOTOS[0][:-4]}_keypoints.json").is_file()
    text = tmp_path / "text.jpg"
    text.write_text("not a picture")
    failed = console("image", text, "--json-dir", tmp_path / "out")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == "Error: none of the 1 images could be read"
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == []


def _pictures_around_a_huge_one(folder):
    """Two small plain pictures with, between them by name, a 70-byte PNG whose header claims 60000 x 60000."""
    folder.mkdir()
    for name in ("a.png", "z.png"):
        cv2.imwrite(str(folder / name), np.full((48, 64, 3), 90, np.uint8))
    (folder / "m_huge.png").write_bytes(png_claiming(60_000, 60_000))
    return folder


def test_a_header_claiming_a_huge_picture_fails_that_image_and_the_run_goes_on(invoke, tmp_path):
    """Failure: OpenCV's cv2.error ended the run with a traceback; z.png was never done, --failures never written."""
    folder = _pictures_around_a_huge_one(tmp_path / "in")
    out = tmp_path / "out"
    result = invoke("image", folder, "--json-dir", out, "--failures", tmp_path / "failed.jsonl", *LOW)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    reason = f"not a readable image: {folder / 'm_huge.png'}: its header declares 60000 x 60000 pixels, more than " \
             "OpenCV decodes"
    assert f"Warning: failed: {reason}" in result.stderr and "Traceback" not in result.output
    assert "2 images done, 0 skipped, 1 failed" in result.stderr
    assert files_under(out) == ["a_keypoints.json", "z_keypoints.json"]
    assert [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()] == [
        {"input": str(folder / "m_huge.png"), "rank": 0, "reason": reason}]


def test_strict_mode_writes_the_image_that_stopped_it_to_failures(invoke, tmp_path):
    folder = _pictures_around_a_huge_one(tmp_path / "in")
    result = invoke("image", folder, "--json-dir", tmp_path / "out", "--strict", "--failures",
                    tmp_path / "failed.jsonl", *LOW)
    assert result.exit_code == 1 and isinstance(result.exception, ImageReadError)
    assert "60000 x 60000" in error_of(result)
    records = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
    assert [r["input"] for r in records] == [str(folder / "m_huge.png")]


def test_a_sideways_phone_photo_is_rendered_upright(invoke, tmp_path):
    """Failure: the EXIF orientation was ignored and the render came out sideways."""
    upright = np.full((48, 64, 3), 90, np.uint8)
    upright[:8, :16] = 250
    (tmp_path / "phone.jpg").write_bytes(sideways_jpeg(upright))
    result = invoke("image", tmp_path / "phone.jpg", "--render-dir", tmp_path / "out", *LOW)
    assert result.exit_code == 0, result.output
    rendered = cv2.imread(str(tmp_path / "out" / "phone_rendered.png"))
    assert rendered.shape == (48, 64, 3) and rendered[:8, :16].mean() > 200
