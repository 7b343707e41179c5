"""scripts/decoder_engines.py: on real network maps, the decoder's two engines find the same people."""

from __future__ import annotations

import json

from .conftest import load_script


def test_the_engines_agree_on_two_dev_photos(dev_set, tmp_path, capsys):
    for photo in sorted(dev_set[0].iterdir())[:4:3]:  # two photos with people
        (tmp_path / photo.name).symlink_to(photo)
    assert load_script("decoder_engines").main(["--photos", str(tmp_path)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 8 and {row["photos"] for row in rows} == {2}
    assert all(row["photos_that_differ"] == 0 and row["largest_difference"] < 1e-3 for row in rows)
    assert sum(row["people"] for row in rows) > 0
