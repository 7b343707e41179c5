"""Connections -> people: grow skeletons limb by limb, merging partial people that do not overlap."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..skeleton import Skeleton

__all__ = ["PartialPerson", "assemble"]


@dataclass(slots=True)
class PartialPerson:
    """A person under construction: peak index per keypoint (-1 missing), summed scores, number of limbs."""

    parts: list[int]
    score: float = 0.0
    num_limbs: int = 0
    alive: bool = field(default=True)


def assemble(connections: list[list[float]], peak_scores: list[float], skeleton: Skeleton) -> list[PartialPerson]:
    """Group matched connections into people.

    Connections are visited limb by limb (skeleton order), best first within a limb. A connection whose ends belong to
    nobody starts a person (unless the limb is redundant); one end known extends that person; ends in two people merge
    them when they share no keypoint. The score is the sum of part and limb scores, as in OpenPose.

    Args:
        connections: rows ``[limb, peak A, peak B, score]`` as returned by ``match_limbs``.
        peak_scores: heatmap score of every peak (global peak index).
    """
    people: list[PartialPerson] = []
    owner: dict[int, int] = {}
    limbs = skeleton.limbs
    k = skeleton.num_keypoints
    for limb_f, a_f, b_f, s in connections:
        limb = limbs[int(limb_f)]
        a, b = int(a_f), int(b_f)
        ja, jb = owner.get(a), owner.get(b)
        if ja is None and jb is None:
            if limb.redundant:
                continue
            parts = [-1] * k
            parts[limb.a], parts[limb.b] = a, b
            owner[a] = owner[b] = len(people)
            people.append(PartialPerson(parts, peak_scores[a] + peak_scores[b] + s, 1))
        elif ja is not None and jb is not None:
            if ja == jb:
                continue
            pa, pb = people[ja], people[jb]
            if any(x >= 0 and y >= 0 for x, y in zip(pa.parts, pb.parts)):
                continue  # both people claim a keypoint: keep them apart
            for i, y in enumerate(pb.parts):
                if y >= 0:
                    pa.parts[i] = y
                    owner[y] = ja
            pa.score += pb.score + s
            pa.num_limbs += pb.num_limbs + 1
            pb.alive = False
        else:
            j = ja if ja is not None else jb
            slot, peak = (limb.b, b) if ja is not None else (limb.a, a)
            person = people[j]
            if person.parts[slot] >= 0:
                continue  # that keypoint is already taken by a better connection
            person.parts[slot] = peak
            owner[peak] = j
            person.score += peak_scores[peak] + s
            person.num_limbs += 1
    return [p for p in people if p.alive]
