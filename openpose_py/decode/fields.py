"""The one description of :class:`~openpose_py.decode.decoder.DecoderConfig`'s numeric fields: range, integer or not,
whether None is allowed, and what the field does. The decoder checks its values against it; the CLI's decoder flags
(``--peak-threshold`` ...) and the server's query parameters (``/v1/pose?peak_threshold=...``) are generated from it.

Torch-free (the CLI builds its options from it before any network loads). Exposing one more field to the CLI and the
server is one name in :data:`TUNABLE_FIELDS` (and a ``help`` here)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DecoderField", "DECODER_FIELDS", "TUNABLE_FIELDS", "tunable_fields"]


class DecoderField(NamedTuple):
    """One numeric decoder field: its allowed closed range ``[low, high]``, whether it is an integer, whether None
    is allowed, and a one-line description."""

    name: str
    low: float
    high: float
    integer: bool = False
    optional: bool = False
    help: str = ""

    @property
    def kind(self) -> type:
        return int if self.integer else float

    @property
    def flag(self) -> str:
        """The CLI flag: ``--peak-threshold``."""
        return "--" + self.name.replace("_", "-")


#: Every numeric field of DecoderConfig.
DECODER_FIELDS: dict[str, DecoderField] = {f.name: f for f in (
    DecoderField("peak_threshold", 0.0, 1.0, False, False, "Heatmap peak threshold."),
    DecoderField("multiscale_peak_threshold", 0.0, 1.0, False, True),
    DecoderField("upsample", 1, 64, True, False),
    DecoderField("blur_sigma", 0.0, 100.0, False, False),
    DecoderField("refine_radius", 0, 64, True, False),
    DecoderField("max_peaks", 1, 100_000, True, False),
    DecoderField("paf_samples", 2, 1000, True, True),
    DecoderField("paf_threshold", -1.0, 1.0, False, False, "Limb (PAF) score threshold."),
    DecoderField("min_inlier_ratio", 0.0, 1.0, False, False),
    DecoderField("short_limb_fraction", 0.0, 1.0, False, True),
    DecoderField("min_parts", 1, 1000, True, False, "Fewest keypoints per person."),
    DecoderField("min_mean_score", 0.0, 1000.0, False, False, "Lowest person score / parts."),
    DecoderField("max_people", 0, 10**9, True, True),
)}

#: The fields a user tunes per run (CLI flags) or per request (server query parameters).
TUNABLE_FIELDS: tuple[str, ...] = ("peak_threshold", "paf_threshold", "min_parts", "min_mean_score")


def tunable_fields() -> list[DecoderField]:
    """The descriptions of :data:`TUNABLE_FIELDS`, in that order."""
    return [DECODER_FIELDS[name] for name in TUNABLE_FIELDS]
