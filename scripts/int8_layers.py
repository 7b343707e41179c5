#!/usr/bin/env python
"""Which convolutions of the shipped INT8 IR to run in float32: rank, then choose by COCO AP. It measures and reports.

The ``openvino-int8`` backend runs hpe-0001's INT8 IR with the convolutions in ``INT8_FLOAT_LAYERS`` kept in float
(their inputs are read from before their FakeQuantize). This script finds that list in two steps, so that the layers
are ranked on images that are not the ones the choice is judged on:

1. **Rank** (``--calib``: unannotated photos and video frames, none from the annotated sets): for every quantised
   convolution L, the float32 network's final heatmaps and PAFs (OpenVINO float32 on the ONNX export) are compared
   with those of the INT8 IR whose stem and L run in float; a layer's gain is how much keeping it in float lowers the
   mean absolute difference (heatmaps and PAFs together, both heights). Layers are ranked by gain per GMAC of the
   layer (what it costs to keep it in float), or by gain alone with ``--rank-by gain``.
2. **Choose** (``--set NAME=IMAGES:ANNOTATIONS``, each at each ``--heights``): the stem plus the first k ranked layers,
   for k in ``--ks`` (or the layer lists given with ``--candidate``, without ranking), against float32: COCO AP per
   set and height, unshifted and as the mean over ``--shifts`` image shifts (:data:`SHIFTS`: the image moved by 0-3
   pixels; on sets of 5-14 people a 1-3 pixel shift alone moves float32's AP by up to 0.12, so a 0.005 bound needs
   the mean), the drops of the mean, and the network's median ms per input on the first calibration images. The
   first candidate whose every drop of the mean is at most ``--max-drop`` is named.

One JSON document on stdout (``rank``, ``candidates``, ``chosen``); progress on stderr.

Example:
  python scripts/int8_layers.py --calib ../shared/data/openpose-media \\
      --set dev=../shared/data/coco-val2017-dev/images:../shared/data/coco-val2017-dev/person_keypoints.json \\
      --set mmpose=../shared/data/mmpose-samples/coco:../shared/data/mmpose-samples/coco/test_coco.json \\
      --set ochuman=../shared/data/mmpose-samples/ochuman:../shared/data/mmpose-samples/ochuman/test_ochuman.json
  # the shipped choice (INT8_FLOAT_LAYERS) against the stem alone, no ranking:
  python scripts/int8_layers.py --calib ../shared/data/openpose-media --set ... --candidate "" \
      --candidate Mconv6_stage2_L1/WithoutBiases,Mconv7_stage2_L1/WithoutBiases,...
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def calibration_images(folder: Path, video_frames: int) -> list[np.ndarray]:
    """The photos of ``folder`` (name order) and ``video_frames`` evenly spaced frames of each video in it."""
    import cv2

    from openpose_py.images import load_image

    images = [load_image(p) for p in sorted(folder.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    for video in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".avi", ".mp4")):
        cap = cv2.VideoCapture(str(video))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in np.linspace(0, count - 1, video_frames).astype(int):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = cap.read()
            if ok:
                images.append(frame)
        cap.release()
    return images


def quantised_convolutions(ir: Path) -> list[tuple[str, float]]:
    """(name, GMACs at a 256x456 input) of every convolution of the IR (in hpe-0001's each one is quantised), in
    graph order."""
    from openpose_py.backends import openvino_core

    model = openvino_core().read_model(str(ir))
    model.reshape({model.inputs[0]: [1, 3, 256, 456]})
    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in ("Convolution", "GroupConvolution"):
            continue
        weights = op.input_value(1).get_partial_shape().to_shape()
        out = op.get_output_partial_shape(0).to_shape()
        # per output value: (input channels of its group) x kernel
        per_output = int(np.prod(weights[2:] if op.get_type_name() == "GroupConvolution" else weights[1:]))
        macs = per_output * int(np.prod(out[1:]))
        found.append((op.get_friendly_name(), macs / 1e9))
    return found


class Variants:
    """Estimators over the same loaded network: float32, and the INT8 IR with given layers in float."""

    def __init__(self, threads: int, cache: Path):
        from openpose_py.backends import find_int8_ir, make_runner
        from openpose_py.weights import load_model

        self.model, self.spec = load_model("lightweight")
        self.ir = find_int8_ir(self.spec)
        self.threads, self.cache = threads, cache
        self.float32 = make_runner("openvino", self.model, self.spec, threads=threads, cache=cache)

    def int8(self, layers):
        from openpose_py.backends import make_runner

        return make_runner("openvino-int8", self.model, self.spec, threads=self.threads, cache=self.cache,
                           int8_float_layers=tuple(layers))

    def estimator(self, runner, height: int):
        from openpose_py import PoseEstimator

        return PoseEstimator(self.model, self.spec, height=height, runner=runner)


def map_error(variants: Variants, runner, images, heights, reference) -> float:
    """Mean absolute difference of the final heatmaps and PAFs from ``reference`` (float32's), over images and
    heights."""
    total, count = 0.0, 0
    for height in heights:
        est = variants.estimator(runner, height)
        for image, ref in zip(images, reference[height]):
            grid = est.network_grid(image)
            total += float((grid.heatmaps - ref[0]).abs().mean() + (grid.pafs - ref[1]).abs().mean())
            count += 1
    return total / count


def rank_layers(variants: Variants, images, heights, rank_by: str) -> list[dict]:
    from openpose_py.backends.openvino import INT8_STEM

    reference = {}
    for height in heights:
        est = variants.estimator(variants.float32, height)
        reference[height] = [(g.heatmaps, g.pafs) for g in (est.network_grid(im) for im in images)]
    stem = INT8_STEM
    base = map_error(variants, variants.int8(stem), images, heights, reference)
    _log(f"stem in float: map error {base:.5f}")
    rows = []
    for name, gmacs in quantised_convolutions(variants.ir):
        if name in stem:
            continue
        error = map_error(variants, variants.int8(stem + (name,)), images, heights, reference)
        gain = base - error
        rows.append({"layer": name, "gmacs": round(gmacs, 4), "map_error": round(error, 6), "gain": round(gain, 6),
                     "gain_per_gmac": round(gain / max(gmacs, 1e-6), 6)})
        _log(f"{name:40s} {gmacs:7.3f} GMAC  error {error:.5f}  gain {gain:+.5f}")
    key = "gain_per_gmac" if rank_by == "gain_per_gmac" else "gain"
    return sorted(rows, key=lambda r: -r[key])


#: Image shifts (dx, dy) in pixels of the jittered evaluation: the content moves right/down by that much (the
#: rows and columns that leave the image are dropped, the new ones mirrored in), and the people found are moved back.
SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 2), (2, 1), (3, 3), (1, 0), (0, 3), (2, 2), (3, 1))


class Shifted:
    """An estimator that sees the image shifted by (dx, dy) pixels and reports people in the original pixels: a
    perturbation that changes nothing a person would see, to measure how far AP moves by chance."""

    def __init__(self, estimator, dx: int, dy: int):
        self.estimator, self.dx, self.dy = estimator, dx, dy

    def __call__(self, image):
        from dataclasses import replace

        import cv2

        h, w = image.shape[:2]
        moved = cv2.copyMakeBorder(image, self.dy, 0, self.dx, 0, cv2.BORDER_REFLECT_101)[:h, :w]
        people = self.estimator(moved)
        return [replace(p, keypoints=tuple(None if k is None else replace(k, x=k.x - self.dx, y=k.y - self.dy)
                                           for k in p.keypoints)) for p in people]


def coco_ap(variants: Variants, runner, sets, heights, shifts=((0, 0),)) -> dict[str, float]:
    """COCO AP per ``set@height``, the mean over the image ``shifts`` (one unshifted pass by default)."""
    from openpose_py.evaluate import evaluate

    aps = {}
    for name, (images, annotations) in sets.items():
        for height in heights:
            est = variants.estimator(runner, height)
            values = [float(evaluate(Shifted(est, dx, dy) if (dx, dy) != (0, 0) else est, images, annotations).ap)
                      for dx, dy in shifts]
            aps[f"{name}@{height}"] = round(float(np.mean(values)), 4)
    return aps


def network_ms(runner, images, height: int, spec, repeat: int = 3) -> float:
    from openpose_py.preprocess import preprocess

    inputs = [preprocess(im, _at(spec, height))[0] for im in images]
    times = []
    for _ in range(repeat):
        for x in inputs:
            start = time.perf_counter()
            runner(x)
            times.append((time.perf_counter() - start) * 1e3)
    return round(float(np.median(times)), 2)


def _at(spec, height):
    from dataclasses import replace

    return replace(spec.preprocess, height=height)


def evaluate_candidate(variants: Variants, layers, sets, heights, shifts, reference, calib) -> dict:
    """One float-layer set against float32: AP (unshifted and the mean over ``shifts``), drops, network ms at 368."""
    runner = variants.int8(layers)
    single = coco_ap(variants, runner, sets, heights)
    mean = coco_ap(variants, runner, sets, heights, shifts)
    drops = {key: round(reference["mean"][key] - mean[key], 4) for key in mean}
    return {"float_layers": list(layers), "ap": single, "ap_shift_mean": mean, "drop_shift_mean": drops,
            "drop_unshifted": {key: round(reference["ap"][key] - single[key], 4) for key in single},
            "worst_drop": max(drops.values()) if drops else 0.0,
            "network_ms_368": network_ms(runner, calib[:6], 368, variants.spec)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calib", type=Path, required=True, help="folder of unannotated photos (and videos)")
    parser.add_argument("--video-frames", type=int, default=8, help="frames taken from each video in --calib")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=IMAGES:ANNOTATIONS")
    parser.add_argument("--heights", type=int, nargs="+", default=[256, 368])
    parser.add_argument("--ks", type=int, nargs="+", default=[0, 1, 2, 4, 6, 8, 16])
    parser.add_argument("--candidate", action="append", default=[], metavar="LAYER[,LAYER...]",
                        help="evaluate these layers (besides the stem) in float instead of ranking; repeatable")
    parser.add_argument("--shifts", type=int, default=len(SHIFTS), help=f"image shifts averaged (1-{len(SHIFTS)})")
    parser.add_argument("--rank-by", choices=["gain_per_gmac", "gain"], default="gain_per_gmac")
    parser.add_argument("--max-drop", type=float, default=0.005)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-calib", type=int, default=None, help="use only the first N calibration images")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    sets = {}
    for item in args.set:
        name, _, paths = item.partition("=")
        images, _, annotations = paths.partition(":")
        sets[name] = (Path(images), Path(annotations))
    shifts = SHIFTS[:max(1, args.shifts)]
    calib = calibration_images(args.calib, args.video_frames)[:args.max_calib]
    _log(f"{len(calib)} calibration images")
    from openpose_py.backends.openvino import INT8_STEM

    stem = INT8_STEM
    with tempfile.TemporaryDirectory() as cache:
        variants = Variants(args.threads, Path(cache))
        ranked = [] if args.candidate else rank_layers(variants, calib, args.heights, args.rank_by)
        extras = [tuple(name for name in c.split(",") if name) for c in args.candidate] or \
            [tuple(r["layer"] for r in ranked[:k]) for k in args.ks]
        reference = {"ap": coco_ap(variants, variants.float32, sets, args.heights),
                     "mean": coco_ap(variants, variants.float32, sets, args.heights, shifts),
                     "network_ms_368": network_ms(variants.float32, calib[:6], 368, variants.spec)}
        _log(f"float32: {reference}")
        candidates, chosen = [], None
        for extra in extras:
            row = evaluate_candidate(variants, stem + extra, sets, args.heights, shifts, reference, calib)
            candidates.append(row)
            _log(f"{len(extra)} more in float: worst drop {row['worst_drop']:+.4f}  {row['network_ms_368']} ms  "
                 f"{row['drop_shift_mean']}")
            if chosen is None and row["worst_drop"] <= args.max_drop:
                chosen = row
    print(json.dumps({"calibration_images": len(calib), "heights": args.heights, "shifts": list(shifts),
                      "rank_by": args.rank_by, "float32": reference, "rank": ranked, "candidates": candidates,
                      "chosen": chosen}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
