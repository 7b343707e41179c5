"""Frame sources, sinks, atomic writing and the pipelined run, with a stand-in estimator (no network needed).

The estimator is replaced by a deterministic fake so that these tests exercise video.py alone; the real network runs
through the same code in tests/cli/.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from openpose_py.errors import CameraError, ImageReadError, OutputError, VideoError
from openpose_py.results import Keypoint, Person, openpose_json, read_openpose_json
from openpose_py.skeleton import BODY_25, COCO_18
from openpose_py.video import (
    CocoSink,
    Frame,
    FrameRange,
    FrameResult,
    FrameSink,
    FrameSource,
    ImageSink,
    ImageSource,
    JsonSink,
    KeypointScale,
    StreamInfo,
    VideoSink,
    VideoSource,
    expand_image_paths,
    format_openpose_json,
    run_video,
    write_json_atomic,
)

SHARED = Path(os.environ.get("OPENPOSE_PY_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
SELFIE = SHARED / "data" / "videos" / "selfie_upper_body.mp4"
MEDIA = SHARED / "data" / "openpose-media"
OFFICIAL = SHARED / "data" / "openpose-official-json"

needs_shared = pytest.mark.skipif(not SELFIE.is_file(), reason="shared data not present")


class FakeEstimator:
    """Puts one person whose Nose sits at (frame mean intensity, frame index-independent y) in each frame.

    Deterministic from the pixels, so batched and unbatched runs must agree. ``fail_at`` raises on that call.
    """

    skeleton = COCO_18

    def __init__(self, fail_at: int | None = None, error: BaseException | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.error = error or KeyboardInterrupt()

    def _people(self, image: np.ndarray) -> list[Person]:
        h, w = image.shape[:2]
        m = float(image.mean())
        kps = tuple(Keypoint(n, (m * (i + 1)) % w, (i * 17.0) % h, 0.5 + i / 40) if i % 3 else None
                    for i, n in enumerate(COCO_18.keypoints))
        return [Person(kps, m, COCO_18)]

    def predict_batch(self, images):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise self.error
        return [self._people(im) for im in images]


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


# ---- values and formats ------------------------------------------------------------------------------------------
def test_frame_range_counts_and_validates():
    assert FrameRange().count(58) == 58
    assert FrameRange(10, 20, 3).count(58) == 4  # 10, 13, 16, 19
    assert FrameRange(50, None, 4).count(58) == 2
    assert FrameRange(0, None, 1).count(None) is None
    for bad in ((-1, None, 1), (5, 5, 1), (0, None, 0)):
        with pytest.raises(ValueError):
            FrameRange(*bad)


def test_keypoint_scale_modes_match_openpose():
    assert KeypointScale.PIXELS.transform(640, 480) == ((1.0, 1.0), 0.0)
    (sx, sy), off = KeypointScale.UNIT.transform(641, 481)
    assert (640 * sx, 480 * sy, off) == (1.0, 1.0, 0.0)
    (sx, sy), off = KeypointScale.SYMMETRIC.transform(641, 481)
    assert (0 * sx + off, 640 * sx + off, 480 * sy + off) == (-1.0, 1.0, 1.0)


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="shared data not present")
def test_json_text_is_byte_identical_to_openpose_and_people_round_trip():
    files = sorted(OFFICIAL.rglob("*_keypoints.json"))
    assert len(files) == 10
    for path in files:
        text = path.read_text()
        # the writer's formatting reproduces OpenPose's bytes exactly for OpenPose's own documents
        assert format_openpose_json(json.loads(text)) == text
        people = read_openpose_json(path, BODY_25)
        official = json.loads(text)
        ours = json.loads(format_openpose_json(openpose_json(people)))
        assert list(ours) == list(official) == ["version", "people"]
        assert ours["version"] == official["version"] == 1.3
        for mine, theirs in zip(ours["people"], official["people"], strict=True):
            assert list(mine) == list(theirs), "per-person keys in OpenPose's order"
            assert all(isinstance(v, list) for v in mine.values())
            assert mine["person_id"] == theirs["person_id"] == [-1]
            assert len(mine["pose_keypoints_2d"]) == 75
            assert mine["pose_keypoints_2d"] == theirs["pose_keypoints_2d"]
            assert mine["face_keypoints_2d"] == mine["hand_left_keypoints_2d"] == []


def test_json_writing_is_atomic_and_reports_unwritable_places(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"version": 1.3, "people": [], "x": [0.0, 1e-7, 123456789.0, 2]})
    assert (tmp_path / "a.json").read_text() == '{"version":1.3,"people":[],"x":[0,1e-07,1.23457e+08,2]}'
    assert _files(tmp_path) == ["a.json"], "no temporary file is left behind"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write to output directory"):
        JsonSink(blocker / "sub")


# ---- sources -----------------------------------------------------------------------------------------------------
def test_expand_image_paths_handles_files_folders_globs_and_mistakes(tmp_path):
    pixel = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    for rel in ("a.jpg", "b.PNG", "notes.txt", "sub/c.jpg", "sub/deeper/d.webp"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(pixel)
    items = expand_image_paths([tmp_path])
    assert [name for _, name in items] == ["a", "b", "sub/c", "sub/deeper/d"]
    assert [name for _, name in expand_image_paths([str(tmp_path / "*.jpg"), tmp_path / "b.PNG"])] == ["a", "b"]
    assert [name for _, name in expand_image_paths([str(tmp_path / "**" / "*.jpg")])] == ["a", "c"]
    with pytest.raises(ImageReadError, match="no such file or folder"):
        expand_image_paths([tmp_path / "missing.jpg"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageReadError, match="no images"):
        expand_image_paths([tmp_path / "empty"])
    with pytest.raises(ImageReadError, match="no images match"):
        expand_image_paths([str(tmp_path / "*.gif")])
    (tmp_path / "sub" / "a.png").write_bytes(pixel)
    with pytest.raises(ImageReadError, match="same name 'a'"):
        expand_image_paths([tmp_path / "a.jpg", tmp_path / "sub" / "a.png"])


def test_image_source_skips_unreadable_files_unless_strict(tmp_path, caplog):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((8, 8, 3), 7, np.uint8))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with caplog.at_level(logging.WARNING, logger="openpose_py.video"):
        source = ImageSource([bad, good])
        frames = list(source)
    assert [f.name for f in frames] == ["good"] and frames[0].index == 1
    assert source.skipped and source.skipped[0][0] == bad
    assert "bad.jpg" in caplog.text
    with pytest.raises(ImageReadError, match="bad.jpg"):
        list(ImageSource([good, bad], strict=True))


@needs_shared
def test_video_source_reads_the_selected_frames():
    with VideoSource(SELFIE) as src:
        assert src.info.size == (540, 720) and src.info.frame_count == 58 and not src.info.live
        assert src.info.fps == pytest.approx(29.92, abs=0.01)
        first = next(iter(src))
    assert first.index == 0 and first.name == "selfie_upper_body_000000000000" and first.image.shape == (720, 540, 3)
    with VideoSource(SELFIE, FrameRange(10, 20, 3)) as src:
        assert src.info.frame_count == 4 and src.info.fps == pytest.approx(29.92 / 3, abs=0.01)
        frames = list(src)
    assert [f.index for f in frames] == [10, 13, 16, 19]
    whole = cv2.VideoCapture(str(SELFIE))
    for _ in range(13):
        whole.grab()
    assert np.array_equal(whole.read()[1], frames[1].image), "index 13 is the 14th frame of the file"


@needs_shared
def test_a_stream_url_is_read_like_a_live_source():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(SELFIE.parent), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{SELFIE.name}"
        with VideoSource(url, FrameRange(0, None, 10)) as src:
            assert src.info.live and src.info.frame_count is None and src.info.name == "selfie_upper_body"
            assert [f.index for f in src] == [0, 10, 20, 30, 40, 50]
        with pytest.raises(VideoError, match="cannot open stream"):
            VideoSource(f"http://127.0.0.1:{server.server_address[1]}/missing.mp4")
    finally:
        server.shutdown()


def test_unusable_videos_and_cameras_fail_with_one_line_errors(tmp_path):
    with pytest.raises(VideoError, match="no such video file"):
        VideoSource(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("hello, not a video")
    with pytest.raises(VideoError, match="not a readable video"):
        VideoSource(tmp_path / "text.mp4")
    with pytest.raises(CameraError, match="camera 97"):
        VideoSource(97)
    with pytest.raises(CameraError, match="camera 98"):
        VideoSource("98")


@needs_shared
def test_a_truncated_video_is_an_error_with_no_outputs_left(tmp_path):
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(SELFIE.read_bytes()[:100_000])  # keeps the header (moov) and the first frames
    out = tmp_path / "out"
    sinks = [JsonSink(out / "json"), VideoSink(out / "video.mp4")]
    with pytest.raises(VideoError, match="truncated"):
        run_video(FakeEstimator(), truncated, sinks)
    assert _files(out) == []


# ---- the pipelined run ---------------------------------------------------------------------------------------------
@needs_shared
def test_run_writes_one_json_per_frame_and_a_video_of_the_same_size_rate_and_length(tmp_path):
    json_dir = tmp_path / "json"
    report = run_video(FakeEstimator(), SELFIE, [JsonSink(json_dir), VideoSink(tmp_path / "out.mp4")], batch_size=4)
    assert (report.frames, report.people, report.interrupted) == (58, 58, False)
    names = _files(json_dir)
    assert names[0] == "selfie_upper_body_000000000000_keypoints.json" and len(names) == 58
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert (cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) \
        == (58, 540, 720)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(29.92, abs=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json", "out.mp4"], "no temporary video left"
    # batching changes nothing in the results
    single = tmp_path / "single"
    run_video(FakeEstimator(), SELFIE, [JsonSink(single)], frames=FrameRange(0, 8), batch_size=1)
    for name in _files(single):
        assert (single / name).read_bytes() == (json_dir / name).read_bytes()


@needs_shared
def test_ctrl_c_closes_a_playable_video_and_keeps_only_complete_json(tmp_path):
    json_dir = tmp_path / "json"
    estimator = FakeEstimator(fail_at=7)  # KeyboardInterrupt on the 7th batch of 2
    report = run_video(estimator, SELFIE, [JsonSink(json_dir), VideoSink(tmp_path / "out.mp4")], batch_size=2)
    assert report.interrupted and report.frames == 12
    assert len(_files(json_dir)) == 12
    for path in json_dir.iterdir():
        assert len(read_openpose_json(path, COCO_18)) == 1
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 12 and cap.read()[0]


@needs_shared
def test_an_error_mid_run_removes_what_the_run_wrote(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="boom"):
        run_video(FakeEstimator(fail_at=5, error=RuntimeError("boom")), SELFIE,
                  [JsonSink(out / "json"), VideoSink(out / "v.avi")])
    assert _files(out) == []

    class Broken(FrameSink):
        def write(self, result):
            if result.frame.index == 3:
                raise OutputError("disk full")

    with pytest.raises(OutputError, match="disk full"):
        run_video(FakeEstimator(), SELFIE, [JsonSink(out / "json2"), Broken()])
    assert _files(out) == []


@needs_shared
def test_a_stop_event_ends_the_run_early_and_cleanly(tmp_path):
    stop = threading.Event()

    class StopAfterFive(FrameSink):
        def write(self, result):
            if result.frame.index == 4:
                stop.set()

    report = run_video(FakeEstimator(), SELFIE, [StopAfterFive(), JsonSink(tmp_path)], stop=stop)
    assert report.interrupted and 5 <= report.frames < 58
    assert len(_files(tmp_path)) == report.frames


def test_live_runs_can_drop_stale_frames_to_stay_current():
    class Live(FrameSource):
        """Ten frames as fast as they are taken; ``all_read`` is set once the reader has queued the last one."""

        info = StreamInfo("cam", 30.0, (8, 8), None, live=True)

        def __init__(self):
            self.all_read = threading.Event()

        def __iter__(self):
            for i in range(10):
                yield Frame(i, np.full((8, 8, 3), i, np.uint8), f"cam_{i:012d}")
            self.all_read.set()

    class Slow(FakeEstimator):
        def __init__(self, source):
            super().__init__()
            self.source = source

        def predict_batch(self, images):
            self.source.all_read.wait(10)  # inference is slower than the camera
            return super().predict_batch(images)

    def indices(latest_only: bool) -> list[int]:
        source = Live()
        seen: list[int] = []
        # without dropping, the reader waits for room in the queue, so the estimator must not wait for the reader
        estimator = Slow(source) if latest_only else FakeEstimator()
        run_video(estimator, source, [], progress=lambda r: seen.append(r.frame.index), latest_only=latest_only)
        return seen

    # the frame being inferred when the camera ran ahead, then straight to the newest one
    dropping = indices(True)
    assert dropping[-1] == 9 and len(dropping) <= 2 and dropping == sorted(set(dropping))
    assert indices(False) == list(range(10))


def test_sinks_write_renders_coco_results_candidates_and_scaled_json(tmp_path):
    image = np.zeros((101, 201, 3), np.uint8)
    image[40:60, 90:110] = 255
    path = tmp_path / "in" / "COCO_val2014_000000000192.png"
    path.parent.mkdir()
    cv2.imwrite(str(path), image)

    class WithCandidates(FakeEstimator):
        def detect_batch(self, images):
            from types import SimpleNamespace

            cands = tuple(np.array([[200.0, 100.0, 0.7]], np.float32) for _ in COCO_18.keypoints)
            return [SimpleNamespace(people=self._people(im), part_candidates=cands) for im in images]

    sinks = [JsonSink(tmp_path / "json", keypoint_scale=KeypointScale.SYMMETRIC, part_candidates=True),
             ImageSink(tmp_path / "render"), CocoSink(tmp_path / "coco" / "results.json")]
    report = run_video(WithCandidates(), ImageSource([path]), sinks)
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


def test_video_sink_rejects_unknown_containers_and_changing_frame_sizes(tmp_path):
    with pytest.raises(OutputError, match="cannot write video"):
        VideoSink(tmp_path / "out.gif")
    sink = VideoSink(tmp_path / "out.avi")
    sink.open(StreamInfo("x", 10.0, (64, 48), None))

    sink.write(FrameResult(Frame(0, np.zeros((48, 64, 3), np.uint8), "x"), ()))
    with pytest.raises(VideoError, match="32x48"):
        sink.write(FrameResult(Frame(1, np.zeros((48, 32, 3), np.uint8), "x"), ()))
    sink.close(keep=False)
    assert _files(tmp_path) == []
