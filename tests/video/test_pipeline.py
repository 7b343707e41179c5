"""The pipelined run: batching, Ctrl-C, errors, stop requests and live sources, with a stand-in estimator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from openpose_py.errors import OutputError, VideoError
from openpose_py.results import read_openpose_json
from openpose_py.skeleton import COCO_18
from openpose_py.video.pipeline import run_pipeline
from openpose_py.video.sinks import FrameSink, JsonSink, VideoSink
from openpose_py.video.sources import Frame, FrameRange, FrameSource, StreamInfo

from .conftest import SELFIE, FakeEstimator, file_names, needs_shared


def _video_frames(path) -> int:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened() and cap.read()[0], f"{path} is not playable"
    return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))


@needs_shared
def test_a_truncated_video_is_an_error_that_keeps_the_frames_before_it(tmp_path):
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(SELFIE.read_bytes()[:100_000])  # keeps the header (moov) and the first frames
    out = tmp_path / "out"
    kept = []
    sinks = [JsonSink(out / "json"), VideoSink(out / "video.mp4")]
    with pytest.raises(VideoError, match="truncated"):
        run_pipeline(FakeEstimator(), truncated, sinks, progress=kept.append)
    assert 5 <= len(kept) < 58
    assert file_names(out / "json") == [f"cut_{i:012d}_keypoints.json" for i in range(len(kept))]
    assert _video_frames(out / "video.mp4") == len(kept), "a playable video of every finished frame"
    assert sorted(p.name for p in out.iterdir()) == ["json", "video.mp4"], "no temporary file left"


@needs_shared
def test_run_writes_one_json_per_frame_and_a_video_of_the_same_size_rate_and_length(tmp_path):
    json_dir = tmp_path / "json"
    report = run_pipeline(FakeEstimator(), SELFIE, [JsonSink(json_dir), VideoSink(tmp_path / "out.mp4")], batch_size=4)
    assert (report.frames, report.people, report.interrupted) == (58, 58, False)
    names = file_names(json_dir)
    assert names[0] == "selfie_upper_body_000000000000_keypoints.json" and len(names) == 58
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert (cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) \
        == (58, 540, 720)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(29.92, abs=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json", "out.mp4"], "no temporary video left"
    # batching changes nothing in the results
    single = tmp_path / "single"
    run_pipeline(FakeEstimator(), SELFIE, [JsonSink(single)], frames=FrameRange(0, 8), batch_size=1)
    for name in file_names(single):
        assert (single / name).read_bytes() == (json_dir / name).read_bytes()


@needs_shared
def test_ctrl_c_closes_a_playable_video_and_keeps_only_complete_json(tmp_path):
    json_dir = tmp_path / "json"
    estimator = FakeEstimator(fail_at=7)  # KeyboardInterrupt on the 7th batch of 2
    report = run_pipeline(estimator, SELFIE, [JsonSink(json_dir), VideoSink(tmp_path / "out.mp4")], batch_size=2)
    assert report.interrupted and report.frames == 12
    assert len(file_names(json_dir)) == 12
    for path in json_dir.iterdir():
        assert len(read_openpose_json(path, COCO_18)) == 1
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 12 and cap.read()[0]


@needs_shared
def test_an_error_mid_run_keeps_every_finished_output_and_propagates(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="boom"):
        run_pipeline(FakeEstimator(fail_at=5, error=RuntimeError("boom")), SELFIE,
                  [JsonSink(out / "json"), VideoSink(out / "v.avi")])
    assert len(file_names(out / "json")) == 4 and _video_frames(out / "v.avi") == 4

    class Broken(FrameSink):
        def write(self, result):
            if result.frame.index == 3:
                raise OutputError("disk full")

    with pytest.raises(OutputError, match="disk full"):
        run_pipeline(FakeEstimator(), SELFIE, [JsonSink(out / "json2"), Broken()])
    # frame 3's JSON went out before the failing sink saw it; nothing after it
    assert file_names(out / "json2") == [f"selfie_upper_body_{i:012d}_keypoints.json" for i in range(4)]


@needs_shared
def test_a_stop_event_ends_the_run_early_and_cleanly(tmp_path):
    stop = threading.Event()

    class StopAfterFive(FrameSink):
        def write(self, result):
            if result.frame.index == 4:
                stop.set()

    report = run_pipeline(FakeEstimator(), SELFIE, [StopAfterFive(), JsonSink(tmp_path)], stop=stop)
    assert report.interrupted and 5 <= report.frames < 58
    assert len(file_names(tmp_path)) == report.frames


@needs_shared
def test_frames_inferred_before_ctrl_c_are_all_written_with_no_hole(tmp_path):
    """A stage that holds each result two frames (as tracking's relabelling and gap filling do), and Ctrl-C as it lets
    frame 1 go: frame 1 is written like the frames the stage still held (2 and 3), so the outputs have no hole, and
    the run says it was interrupted (frames were left)."""

    class HoldTwo:
        def __init__(self):
            self.held = []

        def open(self, info):
            pass

        def __call__(self, result):
            self.held.append(result)
            if len(self.held) <= 2:
                return []
            out = self.held.pop(0)
            if out.frame.index == 1:
                os.kill(os.getpid(), signal.SIGINT)  # handled in this (the main) thread before the result goes on
            return [out]

        def flush(self):
            out, self.held = self.held, []
            return out

    report = run_pipeline(FakeEstimator(), SELFIE, [JsonSink(tmp_path)], stage=HoldTwo())
    names = file_names(tmp_path)
    assert names == [f"selfie_upper_body_{i:012d}_keypoints.json" for i in range(len(names))], "no frame missing"
    assert len(names) == report.frames == 4 and report.interrupted


@needs_shared
def test_ctrl_c_while_the_outputs_are_closed_waits_for_them(tmp_path):
    """Ctrl-C pressed twice while the writer thread finishes a slow output: the run returns only once that output is
    done (a retried Thread.join returns at once on CPython 3.11, bpo-45274: a killed torchrun run published a video
    that was not written yet)."""
    closing, closed = threading.Event(), threading.Event()

    class SlowClose(FrameSink):
        def write(self, result):
            pass

        def close(self, keep=True):
            closing.set()
            time.sleep(1.0)
            closed.set()

    def press_ctrl_c_twice():
        closing.wait(30)
        for _ in range(2):
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.2)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c_twice)
    presser.start()
    try:
        report = run_pipeline(FakeEstimator(), SELFIE, [JsonSink(tmp_path), SlowClose()], frames=FrameRange(0, 3))
        finished_when_returned = closed.is_set()
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert finished_when_returned, "the run returned while its outputs were still being closed"
    assert (report.frames, report.interrupted) == (3, False), "every frame was done before the signal"
    assert len(file_names(tmp_path)) == 3


@needs_shared
def test_ctrl_c_inside_thread_start_still_waits_for_the_writer_and_closes_its_outputs(tmp_path, monkeypatch):
    """Ctrl-C that lands while ``Thread.start`` waits for the new writer thread, before that thread has an ident: the
    thread runs all the same and opens the outputs (a temporary video), so the run must wait for it to close them.
    (A torchrun run killed as its next video began left that temporary file behind.)"""
    original_start = threading.Thread.start

    def start(self):
        if self.name != "openpose-writer":
            return original_start(self)
        # the thread comes up a moment later, after the interrupt has reached the caller
        threading.Timer(0.2, original_start, (self,)).start()
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start)
    report = run_pipeline(FakeEstimator(), SELFIE, [JsonSink(tmp_path / "json"), VideoSink(tmp_path / "out.mp4")])
    monkeypatch.undo()
    time.sleep(0.5)  # time for a writer the run had not waited for to come up and open its outputs
    assert report.interrupted and report.frames == 0
    assert not [t for t in threading.enumerate() if t.name == "openpose-writer"], "no writer left running"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json"], "no temporary video left, none published"


_CTRL_C_INSIDE_A_LOCK = """
import signal, sys, threading, time
from pathlib import Path
from openpose_py.video.pipeline import run_pipeline
from openpose_py.video.sinks import FrameSink, JsonSink
from tests.video.conftest import SELFIE, FakeEstimator

started = threading.Event()
fired = []
original_enter = threading.Condition.__enter__

def enter(self):  # Ctrl-C arrives just after a queue's put has taken its lock, before its with-block is entered
    result = original_enter(self)
    if (not fired and started.is_set() and threading.current_thread() is threading.main_thread()
            and sys._getframe(1).f_code.co_name == "put"):
        fired.append(True)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(0.05)  # the signal's handler runs here, the lock held
    return result

threading.Condition.__enter__ = enter

class Started(FrameSink):
    def write(self, result):
        started.set()
        time.sleep(0.01)

report = run_pipeline(FakeEstimator(), SELFIE, [Started(), JsonSink(Path(sys.argv[1]))])
print(report.frames, report.interrupted, bool(fired), flush=True)
"""


@needs_shared
def test_ctrl_c_inside_a_queues_lock_cannot_deadlock_the_run(tmp_path):
    """Ctrl-C raised in the calling thread just after a queue had taken its lock, before the ``with`` that releases it
    was entered: the lock stayed taken, and the clean-up waited on it forever (a stopped ``openpose-py video`` hung).
    During a run a stop signal now sets a flag instead of raising, so the run ends cleanly."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", _CTRL_C_INSIDE_A_LOCK, str(tmp_path / "json")], cwd=root,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames, interrupted, fired = proc.stdout.split()
    assert fired == "True" and interrupted == "True" and 1 <= int(frames) < 58
    assert len(file_names(tmp_path / "json")) == int(frames), "every frame inferred was written, and only those"


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
        run_pipeline(estimator, source, [], progress=lambda r: seen.append(r.frame.index), latest_only=latest_only)
        return seen

    # the frame being inferred when the camera ran ahead, then straight to the newest one
    dropping = indices(True)
    assert dropping[-1] == 9 and len(dropping) <= 2 and dropping == sorted(set(dropping))
    assert indices(False) == list(range(10))
