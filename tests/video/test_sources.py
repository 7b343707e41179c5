"""Frame sources: image lists, video files, stream URLs and cameras."""

from __future__ import annotations

import http.server
import logging
import threading

import cv2
import numpy as np
import pytest

from openpose_py.errors import CameraError, ImageReadError, VideoError
from openpose_py.video.sources import FrameRange, ImageSource, VideoSource, expand_image_paths, expand_video_paths

from .conftest import SELFIE, needs_shared


def test_frame_range_counts_and_validates():
    assert FrameRange().count(58) == 58
    assert FrameRange(10, 20, 3).count(58) == 4  # 10, 13, 16, 19
    assert FrameRange(50, None, 4).count(58) == 2
    assert FrameRange(0, None, 1).count(None) is None
    for bad in ((-1, None, 1), (5, 5, 1), (0, None, 0)):
        with pytest.raises(ValueError):
            FrameRange(*bad)


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
    # a link to itself or to nothing is named as such, not as a missing file (it was "no such file or folder")
    (tmp_path / "loop.jpg").symlink_to("loop.jpg")
    with pytest.raises(ImageReadError, match=r"loop.jpg is a symbolic link loop \(it leads back to itself\)$"):
        expand_image_paths([tmp_path / "loop.jpg"])
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    with pytest.raises(ImageReadError, match="gone.jpg is a symbolic link to .*deleted.jpg, which does not exist"):
        expand_image_paths([tmp_path / "gone.jpg"])
    with pytest.raises(VideoError, match="loop.jpg is a symbolic link loop"):
        VideoSource(tmp_path / "loop.jpg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageReadError, match="no images"):
        expand_image_paths([tmp_path / "empty"])
    with pytest.raises(ImageReadError, match="no images match"):
        expand_image_paths([str(tmp_path / "*.gif")])
    (tmp_path / "sub" / "a.png").write_bytes(pixel)
    with pytest.raises(ImageReadError, match="same name 'a'"):
        expand_image_paths([tmp_path / "a.jpg", tmp_path / "sub" / "a.png"])


def test_expand_video_paths_keeps_the_given_order_names_by_subfolder_and_passes_urls(tmp_path):
    (tmp_path / "clips" / "day2").mkdir(parents=True)
    for name in ("b.mp4", "a.AVI", "notes.txt", "day2/a.mkv"):
        (tmp_path / "clips" / name).write_bytes(b"x")
    url = "rtsp://camera.local/live/entrance?auth=1"
    assert expand_video_paths([url, tmp_path / "clips"]) == [
        (url, "entrance"), (str(tmp_path / "clips" / "a.AVI"), "a"), (str(tmp_path / "clips" / "b.mp4"), "b"),
        (str(tmp_path / "clips" / "day2" / "a.mkv"), "day2/a")]
    with pytest.raises(VideoError, match="would write outputs under the same name 'a'"):
        expand_video_paths([tmp_path / "clips" / "a.AVI", tmp_path / "clips" / "day2" / "a.mkv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no videos .* in folder"):
        expand_video_paths([tmp_path / "empty"])
    assert ImageSource([tmp_path / "x.png", tmp_path / "y.png"], indices=[4, 6]).indices == [4, 6]


def test_image_source_skips_unreadable_files_unless_strict(tmp_path, caplog):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((8, 8, 3), 7, np.uint8))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with caplog.at_level(logging.WARNING, logger="openpose_py.video.sources"):
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
