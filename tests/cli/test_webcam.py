"""``openpose-py webcam``: headless runs on a file standing in for a camera, and the errors a user meets first."""

from __future__ import annotations

import threading

import numpy as np

from openpose_py.video.sinks import DisplaySink
from openpose_py.errors import CameraError, OpenPoseError
from openpose_py.video import Frame, FrameResult, StreamInfo

from .conftest import FIVE_FRAMES, LOW, error_of, files_under, needs_videos, needs_weights


@needs_weights
def test_headless_run_on_a_video_file_goes_to_its_end_and_writes_like_video(invoke, tmp_path):
    result = invoke("webcam", "--camera", FIVE_FRAMES, "--no-display", "--json-dir", tmp_path / "json",
                    "--output", tmp_path / "live.mp4", *LOW)
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "json") == [f"five_frames_960x540_{i:012d}_keypoints.json" for i in range(5)]
    assert (tmp_path / "live.mp4").is_file()


def test_a_camera_that_does_not_exist_is_named_in_the_error(invoke, tmp_path):
    for spec, expected in (("7", "camera 7"), ("/no/such/clip.mp4", "'/no/such/clip.mp4'")):
        result = invoke("webcam", "--camera", spec, "--no-display", "--json-dir", tmp_path / "json")
        assert result.exit_code == 1 and isinstance(result.exception, CameraError), result.output
        assert expected in error_of(result)


@needs_videos
def test_headless_without_any_output_is_a_usage_error(invoke, tmp_path):
    result = invoke("webcam", "--camera", FIVE_FRAMES, "--no-display")
    assert result.exit_code == 2 and "--no-display without --output, --json-dir or --tracks-csv" in error_of(result)
    assert list(tmp_path.iterdir()) == []


@needs_videos
def test_without_a_display_the_error_suggests_no_display(invoke, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = invoke("webcam", "--camera", FIVE_FRAMES)
    assert result.exit_code == 1 and isinstance(result.exception, OpenPoseError)
    assert "--no-display" in error_of(result)
    # a display variable pointing at no server: the window probe fails in a child process, not this one
    monkeypatch.setenv("DISPLAY", ":97")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    result = invoke("webcam", "--camera", FIVE_FRAMES)
    assert result.exit_code == 1 and "cannot open a window" in error_of(result)


def test_display_sink_overlays_rate_and_people_and_quits_on_q(monkeypatch):
    import cv2

    shown: list[np.ndarray] = []
    keys = iter([-1, ord("q")])
    monkeypatch.setattr(cv2, "imshow", lambda title, image: shown.append(image))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: next(keys, -1))
    monkeypatch.setattr(cv2, "getWindowProperty", lambda title, prop: 1.0)
    monkeypatch.setattr(cv2, "destroyWindow", lambda title: None)
    stop = threading.Event()
    sink = DisplaySink(stop)
    sink.open(StreamInfo("camera0", 30.0, (320, 240), None, live=True))
    frame = Frame(0, np.full((240, 320, 3), 90, np.uint8), "camera0_000000000000")
    sink.write(FrameResult(frame, ()))
    assert not stop.is_set()
    sink.write(FrameResult(frame, ()))
    assert stop.is_set(), "q asks the run to stop"
    sink.close()
    assert len(shown) == 2 and (shown[0][:40, :120] != 90).any(), "text drawn in the top-left corner"


def test_a_bad_output_name_is_a_usage_error_before_the_camera_opens(invoke):
    result = invoke("webcam", "--camera", "7", "--output", "x.gif", "--no-display")
    assert result.exit_code == 2 and "must end in one of" in error_of(result)
