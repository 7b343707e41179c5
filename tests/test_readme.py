"""The README's Python snippets run as written, one after another as a reader would paste them, in a folder holding
the files they name: ``photo.jpg`` (a real photo, made small), ``clip.mp4`` (five frames), and for the 3-D snippet a
``calib.toml`` of three cameras with their ``cam1.jpg`` .. ``cam3.jpg``; kept small to stay fast."""

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


def _three_cameras(folder, photo) -> None:
    """``calib.toml`` with three cameras side by side and ``cam1.jpg`` .. ``cam3.jpg``, the photo each of them took
    (the same photo, shifted as a camera moved sideways would see it: enough for the snippet to run end to end)."""
    import numpy as np

    from openpose_py.multiview import Camera, write_calibration

    height, width = photo.shape[:2]
    K = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1.0]])
    cameras = [Camera(f"cam{i}", K, tvec=np.array([0.2 * (2 - i), 0.0, 0.0]), size=(width, height)) for i in (1, 2, 3)]
    write_calibration(folder / "calib.toml", cameras)
    for i in (1, 2, 3):
        shift = np.float32([[1, 0, 40 * (2 - i)], [0, 1, 0]])
        cv2.imwrite(str(folder / f"cam{i}.jpg"), cv2.warpAffine(photo, shift, (width, height)))


def test_the_readme_has_its_snippets():
    blocks = python_blocks((REPO_ROOT / "README.md").read_text())
    assert len(blocks) >= 4 and all("import" in b for b in blocks[:2])


@pytest.mark.shared("data/openpose-media/COCO_val2014_000000000192.jpg", "data/videos/five_frames_960x540.mp4")
def test_every_python_snippet_runs_as_written(tmp_path, monkeypatch):
    photo = cv2.resize(cv2.imread(str(MEDIA_PHOTO)), (320, 240), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "photo.jpg"), photo)
    shutil.copy(CLIP, tmp_path / "clip.mp4")
    _three_cameras(tmp_path, photo)
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
