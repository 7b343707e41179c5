"""``openpose-py export``: write a network as ONNX or TorchScript and check it against the torch module."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import click

from ..errors import OpenPoseError, OutputError, first_line
from ..limits import DEFAULT_LIMITS
from .options import DEFAULT_MODEL
from .overwrites import refuse_overwriting_inputs

__all__ = ["export"]


def _parse_size(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", value)
    if not match:
        raise click.BadParameter(f"expected WIDTHxHEIGHT such as 456x256, got {value!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 8 or height < 8 or width % 8 or height % 8:
        raise click.BadParameter(f"width and height must be multiples of 8 (at least 8), got {value!r}")
    if max(width, height) > DEFAULT_LIMITS.max_side or width * height > DEFAULT_LIMITS.max_pixels:
        raise click.BadParameter(f"at most {DEFAULT_LIMITS.max_side} a side and {DEFAULT_LIMITS.max_pixels} pixels "
                                 f"in all (the inference limits), got {value!r}")
    return width, height


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), required=True,
              help="onnx: input 'image' (B,3,H,W) -> outputs 'heatmaps', 'pafs'; torchscript: a traced module.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (replaced atomically).")
@click.option("--model", "-m", default=DEFAULT_MODEL, show_default=True, metavar="NAME",
              help="Registered weights name (see `openpose-py weights list`).")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A weights file to export instead of the registered one.")
@click.option("--input-size", default="456x256", show_default=True, callback=_parse_size, metavar="WxH",
              help="Tracing and checking input size (multiples of 8).")
@click.option("--static", is_flag=True, help="ONNX: fix batch, height and width to the tracing input.")
@click.option("--opset", type=click.IntRange(min=11), default=None, help="ONNX opset (default: 17).")
def export(fmt: str, output: Path, model: str, weights: Path | None, input_size: tuple[int, int], static: bool,
           opset: int | None) -> None:
    """Export a network's final stage (heatmaps and PAFs at stride 8, normalised input) to ONNX or TorchScript.

    The written file is run once on a random input at the tracing size (and, when dynamic, at a second size) and
    compared with the torch module; the largest absolute difference is printed.

    \b
    Examples:
      openpose-py export --format onnx -o lightweight.onnx
      openpose-py export --format torchscript --model lightweight -o lightweight.pt
    """
    if fmt == "torchscript" and (static or opset is not None):
        raise click.UsageError("--static and --opset apply to --format onnx only")
    missing = [name for name in ("onnx", "onnxruntime") if fmt == "onnx" and importlib.util.find_spec(name) is None]
    if missing:  # torch's own message, "Module onnx is not installed!", names no way out
        raise OpenPoseError(f"`export --format onnx` needs the onnx extra ({', '.join(missing)} missing): "
                            "pip install 'openpose-py[onnx]'")
    import torch

    from ..backends import ONNX_OPSET, OnnxRuntimeRunner, TorchRunner, export_onnx, export_torchscript, \
        max_abs_difference
    from ..models.outputs import StageOutput
    from ..video import ensure_writable_dir
    from ..weights import SPEC_METADATA_KEY, load_model, spec_to_json

    refuse_overwriting_inputs([weights] if weights is not None else [], [("--output", output)])
    ensure_writable_dir(output.parent)  # before loading anything
    net, spec = load_model(weights if weights is not None else model)
    metadata = {SPEC_METADATA_KEY: spec_to_json(spec)}  # the spec and its codec travel with the network
    try:
        if fmt == "onnx":
            export_onnx(net, output, example_size=input_size, opset=opset or ONNX_OPSET, dynamic=not static,
                        metadata=metadata)
        else:
            export_torchscript(net, output, example_size=input_size, metadata=metadata)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    except (RuntimeError, ValueError) as exc:  # the exporter's refusals: an opset it does not support, say
        raise OutputError(f"cannot export {spec.name} as {fmt}: {first_line(exc)}") from exc
    width, height = input_size
    sizes = [(width, height)] if static else [(width, height), (max(8, width - 64), height + 64)]
    reference = TorchRunner(net)
    if fmt == "onnx":
        run = OnnxRuntimeRunner(output)
    else:
        loaded = torch.jit.load(str(output))

        def run(x: torch.Tensor) -> StageOutput:
            with torch.inference_mode():
                return StageOutput(*loaded(x))
    generator = torch.Generator().manual_seed(0)
    worst = {"heatmaps": 0.0, "pafs": 0.0}
    for w, h in sizes:
        x = torch.randn(1, 3, h, w, generator=generator)
        diff = max_abs_difference(reference(x), run(x))
        worst = {k: max(worst[k], diff[k]) for k in worst}
    shown = " and ".join(f"{w}x{h}" for w, h in sizes)
    click.echo(f"wrote {output} ({fmt}, {spec.name}, {spec.skeleton.name}); max |export - torch| at {shown}: "
               f"heatmaps {worst['heatmaps']:.2e}, pafs {worst['pafs']:.2e}")
