"""``openpose-py video``: a rendered video and per-frame JSON from the real network, Ctrl-C, and bad inputs."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import cv2
import pytest

from openpose_py.errors import OutputError, VideoError
from openpose_py.results import read_openpose_json
from openpose_py.skeleton import COCO_18

from .conftest import FIVE_FRAMES, LOW, SELFIE, error_of, files_under, finish_or_dump, needs_videos, needs_weights


def _frames(path) -> tuple[int, float, int, int]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened() and cap.read()[0], f"{path} is not playable"
    return (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))


@needs_weights
def test_whole_video_gives_a_same_size_same_rate_video_and_one_json_per_frame(invoke, tmp_path):
    result = invoke("video", SELFIE, "--output", tmp_path / "pose.mp4", "--json-dir", tmp_path / "json",
                    "--batch-size", "4", *LOW)
    assert result.exit_code == 0, result.output
    assert "58 frames, 58 people" in result.stderr and "frames/s" in result.stderr, "a summary with the rate"
    assert "\r" not in result.stderr, "no progress bar when stderr is not a terminal (a log file stays readable)"
    count, fps, width, height = _frames(tmp_path / "pose.mp4")
    assert (count, width, height) == (58, 540, 720) and fps == pytest.approx(29.92, abs=0.01)
    names = files_under(tmp_path / "json")
    assert names == [f"selfie_upper_body_{i:012d}_keypoints.json" for i in range(58)]
    found = [len(read_openpose_json(tmp_path / "json" / n, COCO_18)) for n in names]
    assert sum(n >= 1 for n in found) >= 50, f"the person in the selfie video is found in most frames: {found}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json", "pose.mp4"], "no temporary files left"


@needs_weights
def test_start_end_step_select_frames_and_name_files_by_source_index(invoke, tmp_path):
    result = invoke("video", SELFIE, "--json-dir", tmp_path, "--start", "10", "--end", "30", "--step", "7",
                    "--part-candidates", *LOW)
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path) == [f"selfie_upper_body_{i:012d}_keypoints.json" for i in (10, 17, 24)]
    doc = json.loads((tmp_path / "selfie_upper_body_000000000017_keypoints.json").read_text())
    assert list(doc) == ["version", "people", "part_candidates"]


@needs_videos
def test_bad_sources_and_outputs_fail_with_one_line_errors_and_no_files(invoke, tmp_path):
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.mp4").mkdir()
    (tmp_path / "cut.mp4").write_bytes(SELFIE.read_bytes()[:20_000])  # header only: no frame decodes
    out = tmp_path / "out"
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    usage = [
        (("video", tmp_path / "missing.mp4", "--json-dir", out), "no such file"),
        (("video", tmp_path / "empty", "--json-dir", out), "no videos"),
        (("video", SELFIE, SELFIE.parent, "--output", out / "v.mp4"), "with several inputs --output is a folder"),
        (("video", SELFIE, "--json-dir", out, "--skip-existing"), "--skip-existing: for several inputs"),
        (("video", SELFIE, "--output", out / "pose.gif"), "must end in one of"),
        (("video", SELFIE), "nothing to write"),
        (("video", SELFIE, "--json-dir", out, "--start", "9", "--end", "3"), "must be greater than --start"),
        (("video", SELFIE, "--json-dir", out, "--model", "nope"), "unknown weights 'nope'"),
    ]
    for args, message in usage:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in error_of(result), (args, result.stderr)
    runtime = [
        (("video", tmp_path / "text.mp4", "--json-dir", out), VideoError, "not a readable video"),
        (("video", tmp_path / "cut.mp4", "--output", out / "v.mp4"), VideoError, "no frame could be decoded"),
        (("video", SELFIE, "--output", blocker / "v.mp4"), OutputError, "cannot write to output directory"),
        (("video", SELFIE, "--output", tmp_path / "empty.mp4"), OutputError, "empty.mp4: it is a folder"),
        # found only after every video was done, before
        (("video", SELFIE.parent, "--json-dir", out, "--summary-json", blocker / "s.json"), OutputError,
         f"cannot write to output directory {blocker}: {blocker} is a file, not a folder"),
    ]
    for args, kind, message in runtime:
        result = invoke(*args)
        assert result.exit_code == 1 and isinstance(result.exception, kind), (args, result.output)
        assert message in error_of(result), args
    assert not out.exists(), "no output folder is created for an input that cannot be read"


@needs_weights
def test_a_video_truncated_mid_stream_is_an_error_that_keeps_the_good_frames(invoke, tmp_path):
    (tmp_path / "cut.mp4").write_bytes(SELFIE.read_bytes()[:60_000])  # about 7 decodable frames of 58
    out = tmp_path / "out"
    result = invoke("video", tmp_path / "cut.mp4", "--output", out / "v.mp4", "--json-dir", out / "json", *LOW)
    assert result.exit_code == 1 and isinstance(result.exception, VideoError)
    assert error_of(result) == f"{tmp_path / 'cut.mp4'} ended after 7 of 58 frames: the file is truncated or corrupt"
    assert result.stderr.strip().splitlines()[-1] == \
        "Stopped by an error after 7 frames: the outputs finished before it are kept."
    assert files_under(out) == ["json/" + f"cut_{i:012d}_keypoints.json" for i in range(7)] + ["v.mp4"]
    for i in range(7):
        json.loads((out / "json" / f"cut_{i:012d}_keypoints.json").read_text())
    assert _frames(out / "v.mp4")[0] == 7, "the video of the good frames plays"


@needs_weights
def test_a_video_that_cannot_be_written_whole_is_an_error_and_is_not_published(console, small_disk, tmp_path):
    folder, limit = small_disk(64 * 1024, 64 * 1024)  # the 5-frame video takes about 280 KiB
    done = subprocess.run(console.argv("video", FIVE_FRAMES, "--output", folder / "v.mp4", "--json-dir",
                                       tmp_path / "json", *LOW), preexec_fn=limit, env=console.env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"Error: cannot write video {folder / 'v.mp4'}: ")
    assert "nothing was published" in done.stderr
    assert files_under(folder) == [], "no corrupt video and no hidden temporary file"
    # the JSON on the healthy disk is complete and kept
    assert files_under(tmp_path / "json") == [f"five_frames_960x540_{i:012d}_keypoints.json" for i in range(5)]
    for name in files_under(tmp_path / "json"):
        json.loads((tmp_path / "json" / name).read_text())


@needs_weights
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)  # SIGHUP: test_signals.py
def test_a_signal_leaves_a_playable_video_and_complete_json_files(console, tmp_path, sig):
    # the console script in a subprocess, stopped by a real signal once frames are being written: Ctrl-C, or what
    # timeout, docker stop, systemd and Slurm send (SIGTERM)
    json_dir = tmp_path / "json"
    proc = subprocess.Popen(console.argv("video", SELFIE, "--output", tmp_path / "pose.avi", "--json-dir", json_dir,
                                         *LOW),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**console.env, "PYTHONFAULTHANDLER": "1"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if json_dir.is_dir() and len(list(json_dir.glob("*.json"))) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = finish_or_dump(proc, timeout=120)
    written = files_under(json_dir)
    if proc.returncode == 0 and len(written) == 58:
        pytest.skip("the run finished before the interrupt arrived")
    assert proc.returncode == 128 + sig, stderr
    assert "Stopped early" in stderr and "Traceback" not in stderr
    assert 3 <= len(written) < 58
    for name in written:
        json.loads((json_dir / name).read_text())
    count, _, width, height = _frames(tmp_path / "pose.avi")
    assert (count, width, height) == (len(written), 540, 720), "one video frame per JSON file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json", "pose.avi"]


@needs_weights
def test_json_person_id_is_a_stable_track_id_and_minus_one_without_tracking(invoke, tmp_path):
    result = invoke("video", SELFIE, "--json-dir", tmp_path / "on", "--end", "6", "--smooth",
                    "--tracks-csv", tmp_path / "tracks.csv", *LOW)
    assert result.exit_code == 0, result.output
    ids = [json.loads((tmp_path / "on" / n).read_text())["people"][0]["person_id"]
           for n in files_under(tmp_path / "on")]
    assert ids == [[0]] * 6, "OpenPose's field: a one-element list, the same id in every frame"
    header, *rows = (tmp_path / "tracks.csv").read_text().splitlines()
    assert header == "frame,time,track_id,person_score,keypoint,x,y,score" and {r.split(",")[2] for r in rows} == {"0"}
    result = invoke("video", SELFIE, "--json-dir", tmp_path / "off", "--end", "2", "--no-track", *LOW)
    assert result.exit_code == 0, result.output
    doc = (tmp_path / "off" / "selfie_upper_body_000000000000_keypoints.json").read_text()
    assert doc.startswith('{"version":1.3,"people":[{"person_id":[-1],"pose_keypoints_2d":[')
    result = invoke("video", SELFIE, "--json-dir", tmp_path / "x", "--no-track", "--tracks-csv", tmp_path / "t.csv")
    assert result.exit_code == 2 and "--tracks-csv needs tracking" in error_of(result)


@needs_weights
def test_a_collection_keeps_going_past_a_truncated_video_and_keeps_its_good_frames(invoke, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cut.mp4").write_bytes(SELFIE.read_bytes()[:60_000])  # 7 decodable frames of 58
    (tmp_path / "in" / "good.mp4").write_bytes(FIVE_FRAMES.read_bytes())
    out = tmp_path / "out"
    result = invoke("video", tmp_path / "in", "--end", "9", "--json-dir", out / "json", "--output", out / "video",
                    "--failures", out / "failed.jsonl", *LOW)
    assert result.exit_code == 1, result.output
    assert "1 video done, 0 skipped, 1 failed" in result.stderr
    [record] = [json.loads(line) for line in (out / "failed.jsonl").read_text().splitlines()]
    assert record == {"input": str(tmp_path / "in" / "cut.mp4"), "rank": 0,
                      "reason": f"{tmp_path / 'in' / 'cut.mp4'} ended after 7 of 9 frames: the file is truncated or "
                                "corrupt; the 7 frames before it are kept"}
    assert files_under(out / "json") == [f"cut/cut_{i:012d}_keypoints.json" for i in range(7)] + \
        [f"good/good_{i:012d}_keypoints.json" for i in range(5)]
    assert files_under(out / "video") == ["cut.mp4", "good.mp4"]
    assert _frames(out / "video" / "cut.mp4")[0] == 7 and _frames(out / "video" / "good.mp4")[0] == 5


@needs_weights
def test_a_glob_is_a_collection_even_when_it_matches_one_video(invoke, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.mp4").write_bytes(FIVE_FRAMES.read_bytes())
    result = invoke("video", str(tmp_path / "in" / "*.mp4"), "--end", "2", "--json-dir", tmp_path / "json", *LOW)
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "json") == [f"good/good_{i:012d}_keypoints.json" for i in range(2)]


@needs_weights
def test_a_rerun_clears_what_a_killed_run_left_of_an_unfinished_video(invoke, tmp_path):
    """A run killed outright (SIGKILL, a lost node) cannot clean up: its unfinished video leaves a staged JSON folder,
    a staged video and the video writer's temporary file. The rerun that redoes that video removes all three."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.mp4").write_bytes(FIVE_FRAMES.read_bytes())
    out = tmp_path / "out"
    killed = [out / "json" / ".good.partial" / "good_000000000000_keypoints.json", out / "video" / ".good.partial.mp4",
              out / "video" / "..good.partial.x1y2z3_4.mp4"]
    for path in killed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    (out / "video" / ".keep.mp4").write_bytes(b"a user's own hidden file")
    result = invoke("video", tmp_path / "in", "--end", "2", "--json-dir", out / "json", "--output", out / "video",
                    "--skip-existing", *LOW)
    assert result.exit_code == 0, result.output
    assert files_under(out) == ["json/good/good_000000000000_keypoints.json",
                                "json/good/good_000000000001_keypoints.json", "video/.keep.mp4", "video/good.mp4"]
