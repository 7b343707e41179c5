"""Fuzzing ``openpose-py image`` and ``openpose-py video`` (and the video source under it) with files of random
bytes: each run ends in a result or a package error with a one-line message (see tests/test_fuzz.py for the API)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from openpose_py.errors import OpenPoseError, VideoError
from openpose_py.video.sources import VideoSource

from ..test_fuzz import FILE_CASES, SEED, random_file
from .conftest import FIVE_FRAMES, LOW, needs_weights


@needs_weights
def test_cli_image_on_random_bytes_files(invoke, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng([SEED, 200])
    for case in range(FILE_CASES):
        random_file(rng, folder, case)
    result = invoke("image", folder, *LOW, "--json-dir", tmp_path / "json")
    if result.exit_code != 0:
        assert isinstance(result.exception, OpenPoseError), result.output
        assert re.fullmatch(r"none of the \d+ images could be read", str(result.exception))


@needs_weights
@pytest.mark.parametrize("header", [False, True])
def test_video_of_random_bytes(invoke, tmp_path, header):
    rng = np.random.default_rng([SEED, 300 + header])
    video = tmp_path / "random.mp4"
    body = rng.integers(0, 256, 20000, dtype=np.uint8).tobytes()
    # with a real MP4's first bytes (ftyp and the start of its boxes) the container looks right at first
    video.write_bytes((FIVE_FRAMES.read_bytes()[:4096] if header else b"") + body)
    with pytest.raises(VideoError) as caught:
        with VideoSource(video) as source:
            list(source)
    assert "\n" not in str(caught.value) and str(video) in str(caught.value)
    result = invoke("video", video, *LOW, "--json-dir", tmp_path / "json")
    assert result.exit_code != 0 and isinstance(result.exception, VideoError)
    assert "\n" not in str(result.exception) and str(video) in str(result.exception)
