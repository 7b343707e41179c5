"""The shared estimator flags: input limits."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from .conftest import LOW, error_of, needs_weights

@needs_weights
def test_limit_flags_bound_the_input_and_the_saved_maps(invoke, tmp_path, caplog):
    """Failures 1 and 2 through the CLI: a strip photo runs scaled down to the limits, its maps picture is drawn on
    a grid of at most --max-map-pixels cells, and the user is told both once."""
    strip = tmp_path / "strip.png"
    cv2.imwrite(str(strip), np.full((50, 8000, 3), 90, np.uint8))
    with caplog.at_level(logging.WARNING, logger="openpose_py"):
        result = invoke("image", strip, *LOW, "--max-input-side", "1024", "--max-input-pixels", str(1024 * 64),
                        "--max-map-pixels", "5000", "--save-maps", tmp_path / "maps")
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "an image of 8000x50 pixels would need a 25600x160 network input; it is scaled down to 1024x6 (limits: "
        "1024 px a side, 65536 px in all), so small people in it may be missed",
        "maps of an image of 8000x50 pixels are returned on a 894x5 grid, not per image pixel (at most 5000 cells, "
        "InputLimits.max_map_pixels)"]
    assert cv2.imread(str(tmp_path / "maps" / "strip_maps.jpg")).shape == (5, 2 * 894, 3)
    result = invoke("image", strip, "--max-input-side", "4096", "--max-input-pixels", "1000")
    assert result.exit_code == 2
    assert error_of(result) == "Error: --max-input-pixels must be at least --max-input-side x 16 = 65536, got 1000"


def test_a_thread_count_beyond_reason_is_a_usage_error(invoke, tmp_path):
    """Failure: ``--threads 100000`` crashed the process (torch segfaulted, no message, exit 139)."""
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "a.json").write_text("{}")
    for command in (("image", photo), ("video", tmp_path / "v.mp4", "--json-dir", tmp_path / "j"),
                    ("eval", "--images", tmp_path, "--annotations", tmp_path / "a.json"), ("train",)):
        result = invoke(*command, "--threads", 100000)
        assert result.exit_code == 2
        assert error_of(result).startswith("Error: Invalid value for '--threads': 100000 is not in the range 1<=x<=")


def test_decoder_flags_come_from_the_decoders_table_and_reach_its_config():
    """One description of the decoder's fields: the flags, their ranges and the preset's overrides come from it."""
    import ast

    import click
    from click.testing import CliRunner

    from openpose_py.cli.options import EstimatorOptions, estimator_options
    from openpose_py.decode.decoder import DecoderConfig

    @click.command()
    @estimator_options
    def show(estimator_options: EstimatorOptions) -> None:
        click.echo(repr(estimator_options.decoder_fields))

    runner = CliRunner()
    result = runner.invoke(show, ["--peak-threshold", "0.3", "--min-parts", "3", "--paf-threshold", "-0.5"])
    assert result.exit_code == 0, result.output
    given = dict(ast.literal_eval(result.output))
    assert given == {"peak_threshold": 0.3, "paf_threshold": -0.5, "min_parts": 3}
    assert runner.invoke(show, []).output.strip() == "()"
    refused = runner.invoke(show, ["--min-mean-score", "1001"])
    assert refused.exit_code == 2 and "1001.0 is not in the range 0.0<=x<=1000.0" in refused.output
    decoder = DecoderConfig.preset("default", **given)
    assert (decoder.peak_threshold, decoder.paf_threshold, decoder.min_parts) == (0.3, -0.5, 3)
