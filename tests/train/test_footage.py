"""Frames of a video sampled by index and cached downscaled; image folders; the self-teacher's cache."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openpose_py.errors import DatasetError
from openpose_py.images import load_image
from openpose_py.train.footage import cache_frames, self_teacher_json
from openpose_py.train.teacher import read_teacher_json


def write_video(path: Path, count: int, size: tuple[int, int] = (64, 48)) -> Path:
    """A video whose frame i is a flat grey of level 20 i (its index, readable after compression)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for i in range(count):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return path


def test_video_frames_are_sampled_by_index_downscaled_and_cached(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", 10)
    frames = cache_frames(video, tmp_path / "cache", step=3, max_side=32)
    assert [f.index for f in frames] == [0, 3, 6, 9]
    assert [f.stem for f in frames] == [f"clip_{i:012d}" for i in (0, 3, 6, 9)]
    for frame in frames:
        image = load_image(tmp_path / "cache" / "frames" / frame.file_name)
        assert image.shape == (24, 32, 3) and (frame.width, frame.height, frame.scale) == (32, 24, 0.5)
        assert abs(float(image.mean()) - 20 * frame.index) < 4  # the frame of that index, not a neighbour
    stamp = (tmp_path / "cache" / "frames" / frames[0].file_name).stat().st_mtime_ns
    assert cache_frames(video, tmp_path / "cache", step=3, max_side=32) == frames  # reused, not decoded again
    assert (tmp_path / "cache" / "frames" / frames[0].file_name).stat().st_mtime_ns == stamp
    assert len(cache_frames(video, tmp_path / "cache", step=2, max_side=32)) == 5  # other options: made again


def test_an_image_folder_is_taken_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for i, name in enumerate(("b", "a", "c")):
        cv2.imwrite(str(tmp_path / "in" / f"{name}.png"), np.full((20, 30, 3), 10 * i, np.uint8))
    frames = cache_frames(tmp_path / "in", tmp_path / "cache")
    assert [(f.index, f.stem, f.scale) for f in frames] == [(0, "a", 1.0), (1, "b", 1.0), (2, "c", 1.0)]
    with pytest.raises(DatasetError, match="no such video file or image folder"):
        cache_frames(tmp_path / "missing.mp4", tmp_path / "cache2")


def test_the_self_teacher_runs_each_frame_once(tmp_path: Path, shared_dir: Path, lightweight_estimator) -> None:
    (tmp_path / "in").mkdir()
    photo = load_image(shared_dir / "data" / "openpose-media" / "COCO_val2014_000000000192.jpg")
    cv2.imwrite(str(tmp_path / "in" / "p.jpg"), photo)
    frames = cache_frames(tmp_path / "in", tmp_path / "cache", max_side=240)
    runs: list[int] = []

    def teacher(image: np.ndarray):
        runs.append(1)
        return lightweight_estimator(image)

    folder = self_teacher_json(frames, tmp_path / "cache", "t", teacher)
    assert runs == [1] and read_teacher_json(folder / "p_keypoints.json").shape[0] >= 1
    self_teacher_json(frames, tmp_path / "cache", "t", teacher)
    assert runs == [1]  # cached
