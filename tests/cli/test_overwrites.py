"""Outputs that are the command's own inputs are refused before any work (``openpose_py.cli.overwrites``).

Failure: each of these replaced an input with the command's result and exited 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..conftest import DEV_SET, SHARED, require_shared
from .conftest import error_of, files_under

VIDEO = SHARED / "data" / "videos" / "five_frames_960x540.mp4"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder with photos, a video, an input list and an annotation file, as a user's would be."""
    require_shared(DEV_SET, VIDEO)
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(sorted((DEV_SET / "images").glob("*.jpg"))[0], folder / "a.jpg")
    shutil.copy(folder / "a.jpg", folder / "a_rendered.png")  # a photo named like a.jpg's render
    shutil.copy(VIDEO, folder / "v.mp4")
    (folder / "list.txt").write_text(f"{folder / 'a.jpg'}\n")
    shutil.copy(DEV_SET / "person_keypoints.json", folder / "ann.json")
    return folder


def _contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in files_under(folder)}


@pytest.mark.parametrize("args, option", [
    (("image", "{in}/a.jpg", "--coco-json", "{in}/a.jpg"), "--coco-json"),
    (("image", "{in}/a.jpg", "--summary-json", "{in}/./a.jpg"), "--summary-json"),
    (("image", "{in}/a.jpg", "--failures", "{in}/a.jpg"), "--failures"),
    (("image", "@{in}/list.txt", "--coco-json", "{in}/list.txt"), "--coco-json"),
    (("image", "{in}/a.jpg", "{in}/a_rendered.png", "--render-dir", "{in}"), "the output"),
    (("video", "{in}/v.mp4", "--output", "{in}/v.mp4"), "--output"),
    (("video", "{in}/v.mp4", "--tracks-csv", "{in}/v.mp4"), "--tracks-csv"),
    (("video", "{in}", "--output", "{in}"), "--output"),
    (("video", "--inputs-from", "{in}/list.txt", "--json-dir", "{in}/json", "--failures", "{in}/list.txt"),
     "--failures"),
    (("eval", "--images", "{in}", "--annotations", "{in}/ann.json", "--results-json", "{in}/ann.json"),
     "--results-json"),
])
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(invoke, inputs, args, option):
    before = _contents(inputs)
    result = invoke(*(a.format(**{"in": inputs}) for a in args))
    assert result.exit_code == 2, result.output
    message = error_of(result)
    assert message.startswith(f"Error: {option} ") and message.endswith(
        "is an input: writing it would replace the input"), message
    assert _contents(inputs) == before, "nothing was written or replaced"


def test_a_link_to_an_input_counts_as_the_input(invoke, inputs, tmp_path):
    (tmp_path / "link.json").symlink_to(inputs / "a.jpg")
    before = _contents(inputs)
    result = invoke("image", inputs / "a.jpg", "--coco-json", tmp_path / "link.json")
    assert result.exit_code == 2
    assert error_of(result).endswith(f"link.json is an input (the input {inputs / 'a.jpg'}): writing it would "
                                     "replace the input")
    assert _contents(inputs) == before
