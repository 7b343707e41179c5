#!/usr/bin/env python
"""Is a fine-tuned network's AP change on a small set the update's doing, or what any change of its size does there?

Given the network a run started from and the weights it wrote, the script scores COCO keypoint AP (torch backend,
single scale, at several input heights) of

- points along the update, ``start + f * (tuned - start)`` for each fraction ``f`` (0 is the start, 1 the tuned
  weights): the smallest fraction at which the AP moves says how close to a decoder threshold the set sits;
- ``--random K`` updates of the same size in random directions: in every tensor, Gaussian noise scaled to that
  tensor's own update norm (tensors the run froze, whose update is zero, stay as they were), seeds 0..K-1;
- ``--parts DEPTH``: the update applied to one part of the network at a time, the parts being the modules the run
  changed, named by the first DEPTH components of their tensors' names (``refinement_stages.0.trunk.3`` at depth 4):
  which part's update alone moves a set.

If random updates of the same size move a set's AP as far as the real one, the set cannot tell what the run learnt
from how far it moved. If the real update loses at a small fraction what random ones keep at the full size, the loss
is the update's direction. One JSON object on stdout; a plain table on stderr. It measures; it never asserts.

Example:
  python scripts/finetune_bench.py --directions "even->odd" --steps 200 --out /tmp/ftbench
  python scripts/update_sensitivity.py --tuned /tmp/ftbench/even-odd-200/weights.safetensors \\
      --set held-out=../shared/data/coco-val2017-dev/images:/tmp/ftbench/odd.json --random 8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor

from openpose_py.errors import OpenPoseError
from openpose_py.evaluate import evaluate
from openpose_py.inference import PoseEstimator
from openpose_py.weights import load_model

State = Mapping[str, Tensor]


def along(start: State, tuned: State, fraction: float) -> dict[str, Tensor]:
    """``start + fraction * (tuned - start)`` for every floating-point tensor; other tensors as in ``start``."""
    return {k: v + fraction * (tuned[k] - v) if v.is_floating_point() else v for k, v in start.items()}


def random_update(start: State, tuned: State, seed: int) -> dict[str, Tensor]:
    """``start`` plus, in every floating-point tensor, seeded Gaussian noise with that tensor's update norm
    ``|tuned - start|`` (zero where the run left the tensor unchanged)."""
    generator = torch.Generator().manual_seed(seed)
    out: dict[str, Tensor] = {}
    for k, v in start.items():
        if not v.is_floating_point():
            out[k] = v
            continue
        size = float((tuned[k] - v).float().norm())
        noise = torch.randn(v.shape, generator=generator)  # drawn for every tensor: the seed fixes the whole update
        out[k] = v + (noise * (size / float(noise.norm()))).to(v.dtype) if size > 0 else v
    return out


def parts(start: State, tuned: State, depth: int) -> list[str]:
    """The modules the update changed, each named by the first ``depth`` components of its tensors' names, in the
    order of the state dict."""
    out: dict[str, None] = {}
    for k, v in start.items():
        if v.is_floating_point() and not torch.equal(v, tuned[k]):
            out[".".join(k.split(".")[:depth])] = None
    return list(out)


def only_part(start: State, tuned: State, part: str) -> dict[str, Tensor]:
    """``start`` with the update applied to the tensors of ``part`` (a module name) and nowhere else."""
    return {k: tuned[k] if (k == part or k.startswith(part + ".")) and v.is_floating_point() else v
            for k, v in start.items()}


def update_norm(start: State, tuned: State) -> float:
    """The update's L2 norm over all floating-point tensors."""
    return sum(float((tuned[k] - v).float().square().sum()) for k, v in start.items() if v.is_floating_point()) ** 0.5


def _score(model: torch.nn.Module, spec: Any, state: State, sets: dict[str, tuple[Path, Path]],
           heights: list[int]) -> dict[str, dict[str, float]]:
    """{set: {height: AP, "mean": mean AP}} of ``model`` holding ``state``."""
    model.load_state_dict(state)
    out: dict[str, dict[str, float]] = {}
    for name, (images, labels) in sets.items():
        aps = {str(h): round(evaluate(PoseEstimator(model, spec, height=h), images, labels).ap, 4) for h in heights}
        out[name] = {**aps, "mean": round(sum(aps.values()) / len(aps), 4)}
    return out


def _change(scores: dict[str, dict[str, float]], base: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {name: {h: round(v - base[name][h], 4) for h, v in by_height.items()} for name, by_height in scores.items()}


def _set(raw: str) -> tuple[str, tuple[Path, Path]]:
    name, _, paths = raw.partition("=")
    images, _, labels = paths.rpartition(":")
    if not name or not images or not labels:
        raise argparse.ArgumentTypeError(f"expected NAME=IMAGES:ANNOTATIONS, got {raw!r}")
    if not Path(images).is_dir() or not Path(labels).is_file():
        raise argparse.ArgumentTypeError(f"{raw!r}: no folder {images} or no file {labels}")
    return name, (Path(images), Path(labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="lightweight", help="the network the run started from (name or file)")
    parser.add_argument("--tuned", required=True, help="the weights the run wrote")
    parser.add_argument("--set", dest="sets", action="append", type=_set, required=True,
                        metavar="NAME=IMAGES:ANNOTATIONS", help="a COCO set to score (repeatable)")
    parser.add_argument("--fractions", default="0.1,0.25,0.5,1",
                        help="comma-separated points along the update (empty: none)")
    parser.add_argument("--random", type=int, default=4, help="random updates of the same size (seeds 0..K-1)")
    parser.add_argument("--parts", type=int, default=0, metavar="DEPTH",
                        help="also apply the update to one changed module at a time, modules named by DEPTH "
                             "components (0: not)")
    parser.add_argument("--heights", default="352,368,384")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    heights = [int(h) for h in args.heights.split(",")]
    sets = dict(args.sets)
    try:
        model, spec = load_model(args.start)
        tuned = load_model(args.tuned, architecture=spec.architecture)[0].state_dict()
    except OpenPoseError as exc:
        sys.exit(f"error: {exc}")
    start = {k: v.clone() for k, v in model.state_dict().items()}
    began = time.perf_counter()
    base = _score(model, spec, start, sets, heights)
    report: dict[str, Any] = {"start": args.start, "tuned": args.tuned, "heights": heights,
                              "update_norm": round(update_norm(start, tuned), 6), "start_ap": base,
                              "along": [], "random": [], "parts": []}
    for fraction in (float(f) for f in args.fractions.split(",") if f):
        change = _change(_score(model, spec, along(start, tuned, fraction), sets, heights), base)
        report["along"].append({"fraction": fraction, "change": change})
        print(f"along the update x{fraction:<5g} " + _cells(change), file=sys.stderr)
    for seed in range(args.random):
        change = _change(_score(model, spec, random_update(start, tuned, seed), sets, heights), base)
        report["random"].append({"seed": seed, "change": change})
        print(f"random update, seed {seed:<3d} " + _cells(change), file=sys.stderr)
    for part in parts(start, tuned, args.parts) if args.parts > 0 else []:
        change = _change(_score(model, spec, only_part(start, tuned, part), sets, heights), base)
        report["parts"].append({"part": part, "change": change})
        print(f"only {part}: " + _cells(change), file=sys.stderr)
    report["wall_s"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report, indent=1))


def _cells(change: dict[str, dict[str, float]]) -> str:
    return "; ".join(f"{name} " + " ".join(f"{v:+.3f}" for v in by_height.values()) for name, by_height in
                     change.items())


if __name__ == "__main__":
    main()
