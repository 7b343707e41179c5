"""Reading pictures: hostile headers and truncated files are the package's one-line error, never OpenCV's or
libpng's; a phone photo stored sideways is read upright, by path and from bytes alike."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from openpose_py.errors import ImageReadError
from openpose_py.images import decode_image, load_image


def png_claiming(width: int, height: int) -> bytes:
    """A complete, tiny PNG file (about 70 bytes) whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def sideways_jpeg(upright: np.ndarray, quality: int = 95) -> bytes:
    """``upright`` stored as a phone does when held in portrait: the pixels turned a quarter anticlockwise and an
    EXIF block whose Orientation tag (6) tells the viewer to turn them a quarter clockwise."""
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
    jpeg = cv2.imencode(".jpg", stored, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    # TIFF header (big-endian), one IFD entry: tag 0x0112 Orientation, type SHORT, count 1, value 6; no next IFD
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    app1 = b"Exif\x00\x00" + tiff + struct.pack(">I", 0)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def centres(keypoints: np.ndarray) -> np.ndarray:
    """(people, 2): each person's mean found keypoint (score > 0) from (people, K, 3) rows, sorted by x."""
    found = keypoints[..., 2] > 0
    xy = np.where(found[..., None], keypoints[..., :2], 0).sum(1) / np.maximum(found.sum(1), 1)[:, None]
    return xy[np.argsort(xy[:, 0])]


def test_a_header_claiming_a_huge_picture_is_the_packages_image_error(tmp_path):
    data = png_claiming(60_000, 60_000)
    assert len(data) < 100
    with pytest.raises(ImageReadError, match="huge.png: its header declares 60000 x 60000 pixels, more than OpenCV"):
        decode_image(data, "huge.png")
    (tmp_path / "huge.png").write_bytes(data)
    with pytest.raises(ImageReadError, match="60000 x 60000"):
        load_image(tmp_path / "huge.png")


def test_a_truncated_png_is_refused_before_libpng_sees_it(tmp_path):
    """libpng writes 'libpng error: ...' to the process's stderr (fd 2, not Python's sys.stderr) when it decodes an
    incomplete PNG; the header check refuses the file first, so the user sees one line, ours."""
    picture = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    png = cv2.imencode(".png", picture)[1].tobytes()
    (tmp_path / "cut.png").write_bytes(png[: len(png) // 2])
    code = ("import sys\nfrom openpose_py.images import load_image\nfrom openpose_py.errors import ImageReadError\n"
            "try:\n    load_image(sys.argv[1])\nexcept ImageReadError as exc:\n    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cut.png")], capture_output=True, text=True,
                         timeout=60)
    assert run.stdout.strip() == f"not a readable image: {tmp_path / 'cut.png'}: truncated PNG image: the data ends " \
                                 "before the picture does"
    assert "libpng" not in run.stderr, run.stderr


def test_exif_orientation_turns_a_sideways_photo_upright_by_path_and_from_bytes(tmp_path):
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:10, :20] = 255  # a white block at the top left of the upright picture
    data = sideways_jpeg(upright)
    (tmp_path / "phone.jpg").write_bytes(data)
    assert cv2.imread(str(tmp_path / "phone.jpg"), cv2.IMREAD_UNCHANGED).shape == (60, 40, 3)  # stored sideways
    for image in (load_image(tmp_path / "phone.jpg"), decode_image(data)):
        assert image.shape == (40, 60, 3)
        assert image[:10, :20].mean() > 200 and image[10:, :].mean() < 30 and image[:, 20:].mean() < 30


def test_sixteen_bit_and_alpha_pictures_still_read_as_before(tmp_path):
    deep = np.random.default_rng(1).integers(0, 65535, (9, 7, 4), dtype=np.uint16)
    png = cv2.imencode(".png", deep)[1].tobytes()
    np.testing.assert_array_equal(decode_image(png), (deep[..., :3] >> 8).astype(np.uint8))
    grey = np.arange(35, dtype=np.uint8).reshape(5, 7)
    np.testing.assert_array_equal(decode_image(cv2.imencode(".png", grey)[1].tobytes()),
                                  np.repeat(grey[..., None], 3, axis=2))


@pytest.mark.shared("data/openpose-media/COCO_val2014_000000000192.jpg")
def test_a_phone_photo_stored_sideways_gives_the_upright_photos_people(tmp_path, lightweight_estimator):
    """Failure: read by path, the sideways photo found 2 people instead of 4 (and at sideways coordinates)."""
    from .conftest import MEDIA_PHOTO

    upright = cv2.imread(str(MEDIA_PHOTO))
    (tmp_path / "phone.jpg").write_bytes(sideways_jpeg(upright))
    found = [centres(np.nan_to_num(np.array([p.as_array() for p in lightweight_estimator(image)]), nan=0.0))
             for image in (upright, str(tmp_path / "phone.jpg"))]
    assert len(found[0]) == 4 and found[1].shape == found[0].shape
    assert np.abs(found[1] - found[0]).max() < 8, found
