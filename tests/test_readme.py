"""The README's Python snippets run as written, one after another as a reader would paste them, in a folder holding
the ``photo.jpg`` and ``clip.mp4`` they name (a real photo, made small, and a five-frame clip, to keep it fast)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil

import cv2
import pytest

from .conftest import MEDIA_PHOTO, REPO_ROOT, SHARED

CLIP = SHARED / "data" / "videos" / "five_frames_960x540.mp4"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.S | re.M)


def test_the_readme_has_its_snippets():
    blocks = python_blocks((REPO_ROOT / "README.md").read_text())
    assert len(blocks) >= 4 and all("import" in b for b in blocks[:2])


@pytest.mark.shared("data/openpose-media/COCO_val2014_000000000192.jpg", "data/videos/five_frames_960x540.mp4")
def test_every_python_snippet_runs_as_written(tmp_path, monkeypatch):
    photo = cv2.imread(str(MEDIA_PHOTO))
    cv2.imwrite(str(tmp_path / "photo.jpg"), cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA))
    shutil.copy(CLIP, tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    printed = io.StringIO()
    for number, block in enumerate(python_blocks((REPO_ROOT / "README.md").read_text()), 1):
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as exc:  # the block's number and text say which snippet broke
                pytest.fail(f"README python block {number} failed: {type(exc).__name__}: {exc}\n{block}")
    assert "Keypoint(" in printed.getvalue() or "None" in printed.getvalue()  # the first example printed its people
