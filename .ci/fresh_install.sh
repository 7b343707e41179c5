#!/usr/bin/env bash
# A newcomer's first run, as README.md describes it: a fresh virtual environment, the package installed from a built
# wheel (so the shipped model must travel as package data), then `openpose-py image photo.jpg` with an empty HOME and
# cache, no weights variable and no network for weights. It must write OpenPose JSON with people in it.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
# the README's CPU-only line: torch's CPU build first (here the registry's local 2.13.0 CPU wheel), then the package
"$py" -m pip install -q "torch==2.13.0"
"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" .
"$py" -m pip install -q "$work"/dist/openpose_py-*.whl
mkdir -p "$work/home" "$work/out"
photo="$(pwd)/../shared/data/openpose-media/COCO_val2014_000000000192.jpg"
(cd "$work" && env -u OPENPOSE_PY_WEIGHTS_DIR HOME="$work/home" OPENPOSE_PY_CACHE_DIR="$work/home/cache" \
    OPENPOSE_PY_OFFLINE=1 "$work/venv/bin/openpose-py" image "$photo" --json-dir "$work/out")
"$py" - "$work/out" <<'PY'
import json, pathlib, sys
files = list(pathlib.Path(sys.argv[1]).glob("*_keypoints.json"))
assert len(files) == 1, files
people = json.loads(files[0].read_text())["people"]
assert people and len(people[0]["pose_keypoints_2d"]) == 54, people
print(f"fresh install: {files[0].name} holds {len(people)} people")
PY
du -sh "$work/venv" | awk '{print "fresh install: virtual environment " $1}'
