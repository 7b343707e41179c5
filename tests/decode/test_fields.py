"""The one description of the decoder's numeric fields, from which its checks, CLI flags and query parameters come."""

from __future__ import annotations

from dataclasses import fields

import pytest

from openpose_py.decode.decoder import PRESETS, DecoderConfig
from openpose_py.decode.fields import DECODER_FIELDS, TUNABLE_FIELDS, tunable_fields


def test_every_numeric_field_is_described_once_and_every_preset_is_within_its_ranges() -> None:
    numeric = {f.name for f in fields(DecoderConfig)} - {"neighbourhood", "refine", "distance_prior", "inliers_only",
                                                         "matching", "person_score"}
    assert set(DECODER_FIELDS) == numeric
    for preset in PRESETS.values():
        for f in DECODER_FIELDS.values():
            value = getattr(preset, f.name)
            assert (value is None and f.optional) or f.low <= value <= f.high, (f.name, value)
    assert [f.name for f in tunable_fields()] == list(TUNABLE_FIELDS)
    assert all(f.help for f in tunable_fields())
    assert [f.flag for f in tunable_fields()][:2] == ["--peak-threshold", "--paf-threshold"]


@pytest.mark.parametrize("name", TUNABLE_FIELDS)
def test_the_decoder_refuses_values_past_the_described_range(name: str) -> None:
    f = DECODER_FIELDS[name]
    assert getattr(DecoderConfig().replace(**{name: f.kind(f.high)}), name) == f.high
    with pytest.raises(ValueError, match=f"^{name} must be a"):
        DecoderConfig().replace(**{name: f.kind(f.high) + 1})
