import cv2
import numpy as np
import pytest
import torch

from openpose_py.errors import ImageReadError
from openpose_py.limits import InputLimits
from openpose_py.images import as_bgr, load_image, to_uint8
from openpose_py.preprocess import PreprocessSpec, input_geometry, normalise, preprocess


@pytest.mark.parametrize("pad", ["bottom_right", "center"])
def test_letterbox_round_trip_and_content_placement(pad):
    spec = PreprocessSpec(height=100, pad=pad)
    image = np.zeros((50, 77, 3), np.uint8)
    image[10, 20] = 255
    x, box = preprocess(image, spec)
    assert x.shape[2] % 8 == 0 and x.shape[3] % 8 == 0 and x.shape[2] == 104
    assert box.content_size == (154, 100)
    pts = np.array([[20.0, 10.0], [0.0, 0.0], [76.0, 49.0]])
    np.testing.assert_allclose(box.to_image(box.to_input(pts)), pts, atol=1e-9)
    np.testing.assert_allclose(box.to_image(torch.tensor(box.to_input(pts))).numpy(), pts, atol=1e-6)
    # the bright source pixel lands where the forward map says (pixel centres), up to resampling blur
    ix, iy = box.to_input(np.array([20.0, 10.0]))
    bright = np.unravel_index(x[0, 0].numpy().argmax(), x.shape[2:])
    assert abs(bright[0] - iy) <= 1 and abs(bright[1] - ix) <= 1
    sx, sy, dx, dy = box.affine
    np.testing.assert_allclose([ix * sx + dx, iy * sy + dy], [20.0, 10.0], atol=1e-9)


def test_normalisation_and_padding_value():
    spec = PreprocessSpec(mean=128, std=256, height=16)
    x, box = preprocess(np.full((16, 12, 3), 192, np.uint8), spec)
    assert box.input_size == (16, 16) and box.content_size == (12, 16)
    assert torch.allclose(x[0, :, :, :12], torch.tensor(0.25))
    assert torch.allclose(x[0, :, :, 12:], torch.tensor(0.0))  # pad value 128 normalises to 0
    rgb = preprocess(np.dstack([np.full((16, 16), v, np.uint8) for v in (0, 128, 255)]), PreprocessSpec(
        channel_order="RGB", height=16))[0]
    assert rgb[0, 0, 0, 0] > 0.4 and rgb[0, 2, 0, 0] < -0.4


def test_fixed_size_padding_and_errors():
    spec = PreprocessSpec(height=32)
    x, box = preprocess(np.zeros((32, 32, 3), np.uint8), spec, size=(64, 40))
    assert x.shape == (1, 3, 40, 64) and box.input_size == (64, 40)
    with pytest.raises(ValueError, match="smaller"):
        preprocess(np.zeros((32, 64, 3), np.uint8), spec, size=(32, 32))
    assert input_geometry(640, 480, spec, 0.5).content_size == (21, 16)


def test_as_bgr_conversions():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_bgr(gray).shape == (3, 4, 3)
    assert as_bgr(gray[..., None]).shape == (3, 4, 3)
    bgra = np.zeros((3, 4, 4), np.uint8)
    assert as_bgr(bgra).shape == (3, 4, 3)
    floats = np.full((2, 2, 3), 0.5, np.float32)
    assert as_bgr(floats)[0, 0, 0] == 128
    with pytest.raises(ImageReadError, match="empty"):
        as_bgr(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageReadError, match="expected an image array"):
        as_bgr("not an array")


def test_load_image_reads_and_rejects(tmp_path):
    png = tmp_path / "a.png"
    cv2.imwrite(str(png), np.full((5, 6), 200, np.uint8))
    assert load_image(png).shape == (5, 6, 3)
    png16 = tmp_path / "b.png"
    cv2.imwrite(str(png16), np.full((5, 6, 3), 65535, np.uint16))
    assert load_image(png16).max() == 255
    bad = tmp_path / "c.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ImageReadError, match="not a readable image"):
        load_image(bad)
    empty = tmp_path / "d.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError):
        load_image(empty)


def test_normalise_follows_the_spec() -> None:
    images = torch.tensor([[[[0]], [[128]], [[255]]]], dtype=torch.uint8)  # B, G, R = 0, 128, 255
    bgr = normalise(images, PreprocessSpec(mean=128.0, std=255.0))
    assert bgr.flatten().tolist() == pytest.approx([-128 / 255, 0.0, 127 / 255])
    rgb = normalise(images, PreprocessSpec(mean=0.0, std=1.0, channel_order="RGB"))
    assert rgb.flatten().tolist() == [255.0, 128.0, 0.0]


@pytest.mark.parametrize("width, height", [(8000, 50), (1, 500), (500, 1), (1, 1), (20000, 3), (6000, 6000)])
def test_letterbox_stays_within_the_input_limits(width, height):
    """Failure 2: an 8000x50 strip asked for a 58,880 px wide input (3 min, 3.9 GB); a 1x500 array for more."""
    spec = PreprocessSpec(height=368)
    limits = InputLimits()
    assert input_geometry(8000, 50, spec, limits=None).input_size == (58880, 368)  # what it used to run
    for scale in (0.5, 1.0, 4.0):
        box = input_geometry(width, height, spec, scale, limits)
        iw, ih = box.input_size
        assert iw % 8 == 0 and ih % 8 == 0
        assert max(iw, ih) <= limits.max_side and iw * ih <= limits.max_pixels
        assert min(iw, ih) >= limits.min_side  # thin inputs are padded
        cw, ch = box.content_size
        assert cw <= iw and ch <= ih
        # the content keeps the image's aspect ratio (up to rounding to whole pixels)
        assert abs(cw / width - ch / height) <= 1.0 / min(width, height) + 1.0 / min(cw, ch)


def test_limits_leave_ordinary_inputs_alone_and_are_settable():
    spec = PreprocessSpec(height=368)
    assert input_geometry(640, 480, spec, 4.0) == input_geometry(640, 480, spec, 4.0, limits=None)
    box = input_geometry(640, 480, spec, 1.0, InputLimits(max_side=256, max_pixels=256 * 256))
    assert box.input_size == (256, 192) and box.content_size == (256, 192)


def test_uint16_and_float_arrays_are_converted_like_files(tmp_path):
    """Failure 6: a uint16 array was clipped (0 people) where the same 16-bit PNG read by path was scaled."""
    rng = np.random.default_rng(0)
    deep = rng.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    png16 = tmp_path / "deep.png"
    cv2.imwrite(str(png16), deep)
    np.testing.assert_array_equal(as_bgr(deep), load_image(png16))
    np.testing.assert_array_equal(to_uint8(deep), (deep // 256).astype(np.uint8))
    unit = rng.random((4, 5, 3))
    np.testing.assert_array_equal(to_uint8(unit), np.round(unit * 255).astype(np.uint8))
    assert to_uint8(np.array([[0, 255]], np.int64)).tolist() == [[0, 255]]
    for bad, match in [(np.full((2, 2), 255.0), r"must hold values in \[0, 1\], got \[255, 255\]"),
                       (np.full((2, 2), np.nan, np.float32), r"must hold values in \[0, 1\]"),
                       (np.array([[-1, 300]]), "must hold values in 0-255, got -1-300"),
                       (np.zeros((2, 2), bool), "unsupported image dtype bool"),
                       (np.zeros((2, 2), complex), "unsupported image dtype complex128")]:
        with pytest.raises(ImageReadError, match=match):
            as_bgr(bad)
