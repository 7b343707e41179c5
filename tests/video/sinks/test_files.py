"""Output sinks: OpenPose JSON, rendered images, COCO results and rendered video."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from openpose_py.errors import OutputError, VideoError
from openpose_py.skeleton import COCO_18
from openpose_py.video.pipeline import run_pipeline
from openpose_py.video.sinks import CocoSink, FrameResult, ImageSink, JsonSink, KeypointScale, VideoSink
from openpose_py.video.sources import Frame, ImageSource, StreamInfo

from ..conftest import FakeEstimator, file_names


def test_keypoint_scale_modes_match_openpose():
    assert KeypointScale.PIXELS.transform(640, 480) == ((1.0, 1.0), 0.0)
    (sx, sy), off = KeypointScale.UNIT.transform(641, 481)
    assert (640 * sx, 480 * sy, off) == (1.0, 1.0, 0.0)
    (sx, sy), off = KeypointScale.SYMMETRIC.transform(641, 481)
    assert (0 * sx + off, 640 * sx + off, 480 * sy + off) == (-1.0, 1.0, 1.0)


def test_sinks_write_renders_coco_results_candidates_and_scaled_json(tmp_path):
    image = np.zeros((101, 201, 3), np.uint8)
    image[40:60, 90:110] = 255
    path = tmp_path / "in" / "COCO_val2014_000000000192.png"
    path.parent.mkdir()
    cv2.imwrite(str(path), image)

    class WithCandidates(FakeEstimator):
        def detect_batch(self, images, *, maps=False):
            from types import SimpleNamespace

            cands = tuple(np.array([[200.0, 100.0, 0.7]], np.float32) for _ in COCO_18.keypoints)
            return [SimpleNamespace(people=self._people(im), part_candidates=cands, maps=None) for im in images]

    sinks = [JsonSink(tmp_path / "json", keypoint_scale=KeypointScale.SYMMETRIC, part_candidates=True),
             ImageSink(tmp_path / "render"), CocoSink(tmp_path / "coco" / "results.json")]
    report = run_pipeline(WithCandidates(), ImageSource([path]), sinks)
    assert report.frames == 1
    doc = json.loads((tmp_path / "json" / "COCO_val2014_000000000192_keypoints.json").read_text())
    assert list(doc) == ["version", "people", "part_candidates"]
    assert doc["part_candidates"][0]["0"] == [1, 1, 0.7], "candidates share the keypoint scale"
    pose = np.array(doc["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)
    present = pose[:, 2] > 0
    assert (np.abs(pose[present, :2]) <= 1).all() and (pose[~present] == 0).all()
    rendered = cv2.imread(str(tmp_path / "render" / "COCO_val2014_000000000192_rendered.png"))
    assert rendered.shape == image.shape and (rendered != image).any()
    coco = json.loads((tmp_path / "coco" / "results.json").read_text())
    assert coco[0]["image_id"] == 192 and coco[0]["category_id"] == 1 and len(coco[0]["keypoints"]) == 51


def test_sinks_probe_their_output_place_when_built(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write to output directory"):
        JsonSink(blocker / "sub")
    with pytest.raises(OutputError, match="cannot write to output directory"):
        VideoSink(blocker / "out.avi")


def test_video_sink_rejects_unknown_containers_and_changing_frame_sizes(tmp_path):
    with pytest.raises(OutputError, match="cannot write video"):
        VideoSink(tmp_path / "out.gif")
    (tmp_path / "taken.mp4").mkdir()  # failure: an IsADirectoryError traceback when the finished video was published
    with pytest.raises(OutputError, match="^cannot write video .*taken.mp4: it is a folder$"):
        VideoSink(tmp_path / "taken.mp4")
    (tmp_path / "taken.mp4").rmdir()
    sink = VideoSink(tmp_path / "out.avi")
    sink.open(StreamInfo("x", 10.0, (64, 48), None))

    sink.write(FrameResult(Frame(0, np.zeros((48, 64, 3), np.uint8), "x"), ()))
    with pytest.raises(VideoError, match="32x48"):
        sink.write(FrameResult(Frame(1, np.zeros((48, 32, 3), np.uint8), "x"), ()))
    sink.close(keep=False)
    assert file_names(tmp_path) == []


def test_maps_sink_draws_bounded_maps_at_their_own_resolution(tmp_path):
    """Failure 1: maps pictures were drawn at full image size (57 float32 maps per pixel); maps bounded by
    InputLimits.max_map_pixels come on a coarser grid, and the picture follows it instead of failing."""
    from openpose_py.inference import NetworkMaps
    from openpose_py.video.sinks import MapsSink

    image = np.zeros((60, 80, 3), np.uint8)
    sink = MapsSink(tmp_path / "maps", COCO_18)
    for name, (h, w), size in [("full", (60, 80), None), ("coarse", (15, 20), (80, 60))]:
        heatmaps = np.zeros((COCO_18.num_heatmaps, h, w), np.float32)
        maps = NetworkMaps(heatmaps, np.zeros((COCO_18.num_pafs, h, w), np.float32), size)
        sink.write(FrameResult(Frame(0, image, name), (), maps=maps))
        picture = cv2.imread(str(tmp_path / "maps" / f"{name}_maps.jpg"))
        assert picture.shape == (h, 2 * w, 3)


def test_a_video_sinks_leftovers_are_its_temporary_files_and_nothing_else(tmp_path):
    killed = tmp_path / ".clip.k1ll3d_0.mp4"  # what a killed earlier run left: the next sink for clip.mp4 removes it
    killed.write_bytes(b"half")
    sink = VideoSink(tmp_path / "clip.mp4")
    sink.open(StreamInfo("clip", 10.0, (32, 24), None))
    assert not killed.exists()
    [temporary] = VideoSink.leftovers(tmp_path / "clip.mp4")  # what a killed process would leave
    assert temporary.parent == tmp_path and temporary.name.startswith(".clip.") and temporary.suffix == ".mp4"
    for name in ("clip.mp4", ".clip.mp4", ".clip.partial.mp4", ".clip.abcdefgh.avi", ".other.abcdefgh.mp4",
                 ".clip.abcdefghi.mp4"):
        (tmp_path / name).write_bytes(b"")
    assert VideoSink.leftovers(tmp_path / "clip.mp4") == [temporary]
    sink.close(keep=False)
    assert VideoSink.leftovers(tmp_path / "clip.mp4") == []
    assert VideoSink.leftovers(tmp_path / "absent" / "clip.mp4") == []


def test_two_runs_writing_one_video_at_once_both_finish_and_the_last_is_kept(tmp_path):
    """Failure: a sink starting removed every temporary of its output, so a second run writing the same file (two
    terminals, a retried job) deleted the first one's video in progress, which then failed; only a killed run's
    temporaries (whose lock nobody holds) are removed now."""
    first, second = VideoSink(tmp_path / "clip.mp4"), VideoSink(tmp_path / "clip.mp4")
    for sink in (first, second):
        sink.open(StreamInfo("clip", 10.0, (32, 24), None))
    assert len(VideoSink.leftovers(tmp_path / "clip.mp4")) == 2
    for sink, frames in ((first, 3), (second, 5)):
        for i in range(frames):
            sink.write(FrameResult(Frame(i, np.full((24, 32, 3), 40 * i, np.uint8), "clip"), ()))
    first.close()
    second.close()
    cap = cv2.VideoCapture(str(tmp_path / "clip.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5, "the run that finished last is the one kept"
    cap.release()
    assert file_names(tmp_path) == ["clip.mp4"]
