"""Fuzzing the API with random shapes, dtypes, channel counts and bytes (the CLI: tests/cli/test_fuzz.py).

The API (``est(...)``, ``predict_batch``, ``detect_batch(maps=True)``) and image files read by path get seeded random
input. Every case must end in a valid result or a package error (``OpenPoseError``, ``TypeError`` or ``ValueError``)
with a one-line message. The work is bounded without timing anything: every network input the estimator builds must
stay within its :class:`~openpose_py.limits.InputLimits` (an 8000x50 strip used to ask for a 58,880 px wide one), and
maps within ``max_map_pixels``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openpose_py.errors import OpenPoseError
from openpose_py.limits import InputLimits
from openpose_py.images import load_image
from openpose_py.results import Person

SEED = 13
LIMITS = InputLimits(max_side=1024, max_pixels=1024 * 64, max_map_pixels=4096)  # small: cheap cases
DTYPES = (np.bool_, np.int8, np.uint8, np.uint16, np.float32, np.float64, np.complex64, object)
CHANNELS = (None, 1, 2, 3, 4, 5)
#: (height, width) families: empty, lines, single pixels, extreme aspect ratios, ordinary small pictures
SHAPES = ((0, 7), (9, 0), (1, 500), (500, 1), (1, 1), (2, 6000), (6000, 2), (40, 20000), None, None)
API_CASES = 28
FILE_CASES = 6


def _random_image(rng: np.random.Generator) -> np.ndarray:
    shape = SHAPES[rng.integers(len(SHAPES))] or tuple(int(v) for v in rng.integers(1, 200, 2))
    channels = CHANNELS[rng.integers(len(CHANNELS))]
    if channels is not None:
        shape = (*shape, channels)
    dtype = DTYPES[rng.integers(len(DTYPES))]
    if dtype is np.bool_:
        return rng.random(shape) < 0.5
    if dtype is object:
        return rng.integers(0, 256, shape).astype(object)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype)
    values = rng.random(shape) if rng.random() < 0.5 else rng.normal(0, 300, shape)
    if dtype is np.complex64:
        values = values + 1j * rng.random(shape)
    return values.astype(dtype)


def _outcome(call):
    """The call's result, or the exception it raised, which must be a package error with a one-line message."""
    try:
        return call()
    except (OpenPoseError, TypeError, ValueError) as exc:
        message = str(exc)
        assert message and "\n" not in message, f"{type(exc).__name__} without a one-line message: {message!r}"
        return exc


def _assert_valid(people, image_size: tuple[int, int]) -> None:
    width, height = image_size
    assert isinstance(people, list) and all(isinstance(p, Person) for p in people)
    for person in people:
        xy = person.as_array()[:, :2]
        xy = xy[~np.isnan(xy[:, 0])]
        assert ((xy >= 0) & (xy <= [width - 1, height - 1])).all()


def _assert_bounded(sizes: list[tuple[int, int]]) -> None:
    for w, h in sizes:
        assert max(w, h) <= LIMITS.max_side and w * h <= LIMITS.max_pixels and min(w, h) >= LIMITS.min_side


@pytest.fixture(scope="module")
def fuzz_estimator(low_estimator):
    make, log = low_estimator
    return make(limits=LIMITS), log


@pytest.mark.parametrize("case", range(API_CASES))
def test_api_on_random_arrays(fuzz_estimator, case):
    est, log = fuzz_estimator
    log.clear()
    rng = np.random.default_rng([SEED, case])
    image = _random_image(rng)
    out = _outcome(lambda: est(image))
    if not isinstance(out, Exception):
        _assert_valid(out, (image.shape[1], image.shape[0]))
    if not isinstance(out, Exception) and case % 4 == 0:  # batches and maps too, on a quarter of the cases
        other = _random_image(rng)
        batch = _outcome(lambda: est.detect_batch([image, other], maps=True))
        if not isinstance(batch, Exception):
            for detection, im in zip(batch, (image, other)):
                _assert_valid(detection.people, (im.shape[1], im.shape[0]))
                cells = detection.maps.heatmaps.shape[1] * detection.maps.heatmaps.shape[2]
                assert cells <= max(LIMITS.max_map_pixels, im.shape[0] * im.shape[1])
                assert cells <= LIMITS.max_map_pixels or cells == im.shape[0] * im.shape[1]
    assert isinstance(_outcome(lambda: est.predict_batch(image)), TypeError)
    _assert_bounded(log.sizes)


def random_file(rng: np.random.Generator, directory: Path, case: int) -> Path:
    suffix = (".png", ".jpg", ".bmp", ".tif", ".webp", ".gif")[case % 6]
    head = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff\xe0", ".bmp": b"BM", ".tif": b"II*\x00"}
    body = rng.integers(0, 256, int(rng.integers(0, 4000)), dtype=np.uint8).tobytes()
    path = directory / f"random_{case}{suffix}"
    path.write_bytes((head.get(suffix, b"") if case % 2 else b"") + body)
    return path


@pytest.mark.parametrize("case", range(FILE_CASES))
def test_image_files_of_random_bytes(fuzz_estimator, tmp_path, case):
    est, log = fuzz_estimator
    log.clear()
    path = random_file(np.random.default_rng([SEED, 100 + case]), tmp_path, case)
    image = _outcome(lambda: load_image(path))
    people = _outcome(lambda: est(path))
    if isinstance(image, Exception):
        assert isinstance(image, OpenPoseError) and type(people) is type(image) and str(people) == str(image)
    else:
        _assert_valid(people, (image.shape[1], image.shape[0]))
    _assert_bounded(log.sizes)
