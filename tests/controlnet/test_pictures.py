"""Pictures in and out as controlnet_aux takes and gives them: HWC3 and resize_image agree with its own code; what
it cannot take gets a one-line error."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openpose_py.controlnet.pictures import MAX_SIDE, ResolutionError, as_rgb, hwc3, resize_image, resized_shape
from openpose_py.errors import ImageReadError


@pytest.mark.parametrize("shape", [(37, 53), (37, 53, 1), (37, 53, 3), (37, 53, 4)])
def test_hwc3_matches_controlnet_aux(reference, shape) -> None:
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    np.testing.assert_array_equal(hwc3(image), reference.HWC3(image))


@pytest.mark.parametrize("size", [(426, 640), (640, 426), (500, 500), (33, 47), (1080, 1920), (720, 97)])
@pytest.mark.parametrize("resolution", [512, 384, 100, 767.5])
def test_resize_matches_controlnet_aux(reference, size, resolution) -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(*size, 3), dtype=np.uint8)
    theirs = reference.resize_image(image, resolution)
    assert resized_shape(*size, resolution)[:2] == theirs.shape[:2]
    if size[0] * size[1] <= 640 * 640:  # the pixels too, on the smaller ones (the rule is the same)
        np.testing.assert_array_equal(resize_image(image, resolution), theirs)


@pytest.mark.parametrize("resolution", [0, -5, 20, float("nan"), "512", True])
def test_resolutions_giving_no_picture_are_refused(resolution) -> None:
    with pytest.raises(ResolutionError, match="resolution"):
        resized_shape(480, 640, resolution)


def test_huge_resolutions_are_refused_before_any_memory_is_taken() -> None:
    with pytest.raises(ResolutionError, match="100032x75008|75008x100032|would make"):
        resized_shape(480, 640, 100000)
    with pytest.raises(ResolutionError, match=str(MAX_SIDE)):
        resized_shape(10, 1000, 512)  # a strip: 51200 pixels long


def test_pil_modes(tmp_path) -> None:
    Image = pytest.importorskip("PIL.Image")
    rgb = np.random.default_rng(2).integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    pil = Image.fromarray(rgb)
    np.testing.assert_array_equal(as_rgb(pil), rgb)
    grey = pil.convert("L")
    np.testing.assert_array_equal(as_rgb(grey), np.repeat(np.asarray(grey)[:, :, None], 3, axis=2))
    rgba = pil.convert("RGBA")
    np.testing.assert_array_equal(as_rgb(rgba), rgb)  # opaque: unchanged
    # a palette picture by its colours (controlnet_aux reads its palette indices as grey)
    palette = pil.quantize(16)
    np.testing.assert_array_equal(as_rgb(palette), np.asarray(palette.convert("RGB")))
    # 16-bit grey by its high byte (controlnet_aux keeps the low byte: noise)
    deep = (np.arange(20 * 30, dtype=np.uint16).reshape(20, 30) * 100)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    sixteen = Image.open(tmp_path / "deep.png")
    assert sixteen.mode in ("I;16", "I")  # 16-bit grey PNG: I;16 in recent Pillow, I in older ones
    np.testing.assert_array_equal(as_rgb(sixteen)[:, :, 0], (deep >> 8).astype(np.uint8))
    assert as_rgb(Image.new("1", (5, 4), 1)).shape == (4, 5, 3)
    assert as_rgb(Image.new("CMYK", (5, 4))).shape == (4, 5, 3)


@pytest.mark.parametrize("shape, hint", [((3, 20, 30), "channels first"), ((1, 20, 30, 3), "batch of one"),
                                         ((20, 30, 2), "unsupported"), ((20,), "unsupported"),
                                         ((0, 30, 3), "empty")])
def test_odd_array_shapes_are_refused_clearly(shape, hint) -> None:
    with pytest.raises(ImageReadError, match=hint):
        as_rgb(np.zeros(shape, dtype=np.uint8))


def test_other_dtypes_and_inputs() -> None:
    floats = np.full((4, 5, 3), 0.5, dtype=np.float32)
    assert as_rgb(floats)[0, 0, 0] == 128
    assert as_rgb(np.full((4, 5), 1000, dtype=np.uint16))[0, 0, 0] == 3
    with pytest.raises(ImageReadError, match="0-255"):
        as_rgb(np.full((4, 5, 3), 300, dtype=np.int32))
    with pytest.raises(ImageReadError, match="PIL image"):
        as_rgb([[1, 2], [3, 4]])
