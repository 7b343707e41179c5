"""``openpose-py boxes``: hands and faces in boxes given in a file (OpenPose's ``--hand_detector 2`` /
``--face_detector 2``), written as OpenPose JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

__all__ = ["boxes", "read_boxes"]

_PARTS = ("face", "left_hand", "right_hand")


def read_boxes(path: Path) -> list[dict[str, list[float] | None]]:
    """The people of a boxes file: ``{"people": [{"face": [x, y, w, h], "left_hand": [...], "right_hand": [...]},
    ...]}`` (or the bare list); a part left out or null has no box for that person."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--boxes") from None
    people = doc.get("people") if isinstance(doc, dict) else doc
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        raise click.BadParameter(f"{path}: expected {{\"people\": [{{\"face\": [x, y, w, h], \"left_hand\": ..., "
                                 f"\"right_hand\": ...}}, ...]}}", param_hint="--boxes")
    out = []
    for i, person in enumerate(people):
        unknown = set(person) - set(_PARTS)
        if unknown:
            raise click.BadParameter(f"{path}: person {i} has unknown part {sorted(unknown)[0]!r}; known: "
                                     f"{', '.join(_PARTS)}", param_hint="--boxes")
        for part in _PARTS:
            box = person.get(part)
            if box is not None and (not isinstance(box, list) or len(box) != 4
                                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
                raise click.BadParameter(f"{path}: person {i}'s {part} box must be [x, y, w, h] (numbers), got "
                                         f"{json.dumps(box)[:60]}", param_hint="--boxes")
        out.append({part: person.get(part) for part in _PARTS})
    return out


def _people(count: int, found: dict[str, Any]) -> list:
    """One person per entry of the boxes file, body empty, with the parts found (a part with no box for anyone is
    off for everyone, as in OpenPose)."""
    from ..results import Person
    from ..skeleton import COCO_18

    empty = Person((None,) * COCO_18.num_keypoints, 0.0, COCO_18)
    return [empty.with_parts(**{part: rows[i] for part, rows in found.items()}) for i in range(count)]


def _document(people: list) -> dict[str, Any]:
    """The OpenPose document, the body off (``pose_keypoints_2d`` empty, as OpenPose writes it with ``--body 0``)."""
    from ..results import openpose_json

    doc = openpose_json(people)
    for entry in doc["people"]:
        entry["pose_keypoints_2d"] = []
    return doc


@click.command("boxes")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--boxes", "boxes_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSON: {"people": [{"face": [x, y, w, h], "left_hand": [...], "right_hand": [...]}, ...]} in '
                   "image pixels; a part left out has no box.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OpenPose JSON to write (one entry per person of the boxes file, in its order).")
@click.option("--render", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the picture with the hands and faces drawn.")
def boxes(image: Path, boxes_file: Path, output: Path, render: Path | None) -> None:
    """Hands (21 points) and faces (70 points) in given boxes, as OpenPose writes them: zeros where a part is not
    found or its box is unusable (outside the image, no area).

    \b
    Example:
      openpose-py boxes photo.jpg --boxes boxes.json -o photo_keypoints.json
    """
    import numpy as np

    from ..images import load_image, write_image
    from ..parts import PartsEstimator
    from ..render import draw_people
    from ..results import write_openpose_json

    people = read_boxes(boxes_file)
    picture = load_image(image)
    parts = PartsEstimator()
    found: dict[str, Any] = {}
    for part in _PARTS:
        given = [p[part] for p in people]
        if any(b is not None for b in given):
            rows = np.array([b if b is not None else [np.nan] * 4 for b in given], dtype=np.float64).reshape(-1, 4)
            run = parts.faces_in_boxes if part == "face" else parts.hands_in_boxes
            found[part] = run(picture, rows)
    result = _people(len(people), found)
    write_openpose_json(output, _document(result))
    if render is not None:
        write_image(render, draw_people(picture, result))
    click.echo(f"wrote {output}: {len(people)} people, parts {', '.join(found) or 'none'}")
