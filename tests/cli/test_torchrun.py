"""``image``, ``video`` and ``eval`` launched by a real ``torchrun --nproc-per-node 2`` on the CPU (gloo): the same
bytes as one process, every input exactly once, one AP, a killed run resumed with --skip-existing, and a corrupt input
that ends in the failures file without stopping the others. Single-process references run in-process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FIVE_FRAMES, MEDIA, files_under, needs_weights

pytestmark = needs_weights

# one CPU thread per process: the single-process references and the shares compute identically
NET = ("--height", "160", "--threads", "1")
PHOTOS = sorted(p.name for p in MEDIA.glob("COCO_val2014_*.jpg"))[:4]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """photos/: four COCO photos and a corrupt one; videos/: three 3-frame cuts of the shared video, a corrupt one."""
    root = tmp_path_factory.mktemp("inputs")
    (root / "photos").mkdir()
    for name in PHOTOS:
        shutil.copy(MEDIA / name, root / "photos" / name)
    (root / "photos" / "COCO_val2014_000000000300.jpg").write_bytes(b"not a jpeg")
    (root / "videos").mkdir()
    for name in ("clip_a", "clip_b", "clip_c"):
        shutil.copy(FIVE_FRAMES, root / "videos" / f"{name}.mp4")
    (root / "videos" / "clip_bad.mp4").write_bytes(FIVE_FRAMES.read_bytes()[:2000])
    return root


def torchrun(console, *args, nproc: int = 2, **popen) -> subprocess.Popen:
    """A real torchrun launch of the console script (a free rendezvous port on this machine)."""
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
            "--no-python", console.exe, *map(str, args)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=console.env,
                            **popen)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=240)
    return proc.returncode, out, err


def tree(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in files_under(directory)}


def failures(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_images_and_videos_two_processes_write_the_single_process_bytes_each_input_once(console, invoke, inputs,
                                                                                      tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    photos, videos = inputs / "photos", inputs / "videos"
    ran = torchrun(console, "image", photos, "--json-dir", two / "json", "--render-dir", two / "render",
                   "--coco-json", two / "coco.json", "--failures", two / "failed.jsonl", "--verbose", *NET)
    ref = invoke("image", photos, "--json-dir", one / "json", "--render-dir", one / "render",
                 "--coco-json", one / "coco.json", "--failures", one / "failed.jsonl", *NET)
    status, out, err = finish(ran)
    assert ref.exit_code == 1 and status == 1, (ref.output, err)  # the corrupt photo fails both runs, at the end
    assert "all 2 processes: 4 images done, 0 skipped, 1 failed" in err, err
    assert tree(one / "json") == tree(two / "json") and tree(one / "render") == tree(two / "render")
    assert (one / "coco.json").read_bytes() == (two / "coco.json").read_bytes()
    assert len(files_under(two / "json")) == 4
    done = sorted(line.split(":")[0] for line in out.splitlines() if line.startswith(str(photos)))
    assert done == [str(photos / name) for name in PHOTOS], "every good photo exactly once"
    [record] = failures(two / "failed.jsonl")
    assert record["input"].endswith("COCO_val2014_000000000300.jpg") and record["rank"] in (0, 1)
    assert "not a readable image" in record["reason"]

    # the launch reads its inputs from a list file, the reference from the folder
    listing = tmp_path / "videos.txt"
    listing.write_text("# clips\n" + "".join(f"{p}\n" for p in sorted(videos.iterdir())))

    def video_args(root: Path) -> list:
        return [f"@{listing}" if root == two else videos, "--end", "3", "--json-dir", root / "poses",
                "--output", root / "video", "--failures", root / "failed-videos.jsonl", *NET]

    ran = torchrun(console, "video", *video_args(two))
    ref = invoke("video", *video_args(one))
    status, out, err = finish(ran)
    assert ref.exit_code == 1 and status == 1, (ref.output, err)
    assert "all 2 processes: 3 videos done, 0 skipped, 1 failed" in err, err
    assert files_under(two / "video") == ["clip_a.mp4", "clip_b.mp4", "clip_c.mp4"]
    assert files_under(two / "poses") == [f"clip_{c}/clip_{c}_{i:012d}_keypoints.json" for c in "abc" for i in range(3)]
    assert tree(one / "video") == tree(two / "video") and tree(one / "poses") == tree(two / "poses")
    finished = sorted(re.findall(r"^(.*\.mp4): 3 frames, \d+ (?:person|people)$", err, re.M))
    assert finished == [str(videos / f"clip_{c}.mp4") for c in "abc"], err
    [record] = failures(two / "failed-videos.jsonl")
    assert record["input"].endswith("clip_bad.mp4") and "video" in record["reason"]


def test_eval_two_processes_gives_the_single_process_ap(console, invoke, dev_set, tmp_path):
    images, annotations = dev_set
    doc = json.loads(annotations.read_text())
    # five photos with large, well-annotated people: a non-trivial AP at height 160
    counts: dict[int, int] = {}
    for ann in doc["annotations"]:
        if ann.get("num_keypoints", 0) >= 8 and ann["area"] > 9000:
            counts[ann["image_id"]] = counts.get(ann["image_id"], 0) + 1
    ids = set(sorted(counts, key=lambda i: (-counts[i], i))[:5])
    doc["images"] = [im for im in doc["images"] if im["id"] in ids]
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] in ids]
    subset = tmp_path / "subset.json"
    subset.write_text(json.dumps(doc))
    args = ("eval", "--images", images, "--annotations", subset, "--json", *NET)
    ran = torchrun(console, *args, "--results-json", tmp_path / "two.json")
    ref = invoke(*args, "--results-json", tmp_path / "one.json")
    status, out, err = finish(ran)
    assert ref.exit_code == 0 and status == 0, (ref.output, err)
    [line] = out.strip().splitlines()  # rank 0 alone reports
    single, double = json.loads(ref.stdout), json.loads(line)
    assert single["AP"] > 0.2 and single["num_images"] == 5
    assert double == single
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()


def test_a_killed_run_resumed_with_skip_existing_redoes_no_finished_video(console, invoke, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    names = [f"clip_{i}" for i in range(4)]
    for name in names:
        shutil.copy(FIVE_FRAMES, videos / f"{name}.mp4")
    out = tmp_path / "out"

    def args(root: Path) -> list:
        return [videos, "--json-dir", root / "json", "--output", root / "video", *NET]

    ran = torchrun(console, "video", *args(out), start_new_session=True)
    published = out / "json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and ran.poll() is None and not (
            published.is_dir() and any(not p.name.startswith(".") for p in published.iterdir())):
        time.sleep(0.05)
    os.killpg(ran.pid, signal.SIGTERM)  # what Slurm or a failing node's supervisor sends to the whole launch
    status, _, err = finish(ran)
    first = {name: (out / name).stat().st_ino for name in files_under(out)}
    done_before = sorted({name.split("/")[1] for name in first if name.startswith("json/")})
    if status == 0 and len(done_before) == len(names):
        pytest.skip("the run finished before the signal arrived")
    assert status != 0 and 1 <= len(done_before) < len(names), err
    assert "Interrupted" in err and "openpose_py" not in err, "each process stops cleanly, without a traceback"
    # only whole videos were published, and the ones stopped part-way left nothing behind
    assert sorted(first) == sorted([f"json/{n}/{n}_{i:012d}_keypoints.json" for n in done_before for i in range(5)]
                                   + [f"video/{n}.mp4" for n in done_before])
    again = torchrun(console, "video", *args(out), "--skip-existing")
    ref = invoke("video", *args(tmp_path / "reference"))
    status, _, err = finish(again)
    assert status == 0 and ref.exit_code == 0, err
    redone = sorted(Path(p).stem for p in re.findall(r"^(.*\.mp4): 5 frames, \d+ (?:person|people)$", err, re.M))
    assert redone == [n for n in names if n not in done_before], "each unfinished video once, no finished one"
    assert f"{len(done_before)} skipped, 0 failed" in err
    assert tree(out) == tree(tmp_path / "reference"), "the same complete outputs as one uninterrupted process"
    assert all((out / name).stat().st_ino == ino for name, ino in first.items()), "finished outputs untouched"
