#!/usr/bin/env python
"""Write a copy of a COCO person-keypoint set with every photo turned 90 degrees clockwise.

People lying on their side are rare in COCO, so the turned set stands in for footage unlike the network's training
data: scripts/finetune_bench.py --dev OUT measures how far fine-tuning adapts to it, and what it costs on the upright
photos. Keypoints, boxes, polygons and crowd masks (RLE) are turned with the photos; areas are unchanged.

Example:
  python scripts/rotate_coco.py ../shared/data/coco-val2017-dev /tmp/dev-turned
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils


def turn_points(xy: np.ndarray, height: float) -> np.ndarray:
    """(N, 2) image coordinates -> their place after a clockwise quarter turn of an image ``height`` tall:
    x' = height - y, y' = x. Region outlines (boxes, polygons) are in pixel-corner coordinates (pixel i spans
    [i, i + 1)), so ``height`` is the image's; keypoints are pixel centres (pixel i spans [i - 0.5, i + 0.5), as
    everywhere in openpose_py), so they turn with ``height - 1``."""
    return np.stack([height - xy[:, 1], xy[:, 0]], axis=1)


def turn_annotation(ann: dict, width: int, height: int) -> dict:
    out = dict(ann)
    kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
    labelled = kp[:, 2] > 0
    kp[labelled, :2] = turn_points(kp[labelled, :2], height - 1)
    out["keypoints"] = [float(v) if i % 3 < 2 else int(v) for i, v in enumerate(kp.reshape(-1))]
    x, y, w, h = ann["bbox"]
    out["bbox"] = [height - y - h, x, h, w]
    seg = ann.get("segmentation")
    if isinstance(seg, list):
        out["segmentation"] = [turn_points(np.asarray(p, dtype=np.float64).reshape(-1, 2), height).reshape(-1).tolist()
                               for p in seg]
    elif isinstance(seg, dict):
        rle = mask_utils.frPyObjects(seg, height, width) if isinstance(seg.get("counts"), list) else seg
        turned = np.asfortranarray(np.rot90(mask_utils.decode(rle), k=-1))
        encoded = mask_utils.encode(turned)
        encoded["counts"] = encoded["counts"].decode()
        out["segmentation"] = encoded
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="folder holding images/ and person_keypoints.json")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    data = json.loads((args.source / "person_keypoints.json").read_text())
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    sizes = {}
    for im in data["images"]:
        image = cv2.imread(str(args.source / "images" / im["file_name"]), cv2.IMREAD_COLOR)
        cv2.imwrite(str(args.out / "images" / im["file_name"]), cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        sizes[im["id"]] = (im["width"], im["height"])
        im["width"], im["height"] = im["height"], im["width"]
    data["annotations"] = [turn_annotation(a, *sizes[a["image_id"]]) for a in data["annotations"]]
    (args.out / "person_keypoints.json").write_text(json.dumps(data))


if __name__ == "__main__":
    main()
