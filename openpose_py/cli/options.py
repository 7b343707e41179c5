"""Options shared by the commands that run a network (image, video, webcam, eval, serve) and the helpers behind them.

``@estimator_options`` adds ``--model --weights --device --height --scales --flip --decoder --number-people-max
--threads --backend --max-input-side --max-input-pixels`` (``image`` adds ``@max_map_pixels_option``) and hands
the command one :class:`EstimatorOptions` (keyword ``estimator_options``); :func:`build_estimator` turns it into a
:class:`~openpose_py.inference.PoseEstimator`. Only the CLI reads these flags; the library receives frozen
configuration.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from ..backends.registry import backend_names
from ..codec import DECODER_PRESETS
from ..decode.fields import DecoderField, tunable_fields
from ..limits import DEFAULT_LIMITS, InputLimits

if TYPE_CHECKING:
    from ..inference import PoseEstimator
    from ..render import Painter
    from ..video import KeypointScale

__all__ = [
    "BACKEND_NAMES",
    "EstimatorOptions",
    "estimator_options",
    "max_map_pixels_option",
    "build_estimator",
    "render_threshold_option",
    "keypoint_scale_option",
    "render_style",
    "RenderOptions",
    "render_options",
    "RENDER_STYLES",
    "parse_size",
    "keypoint_scale",
    "quiet_video_backends",
]

DEFAULT_MODEL = "lightweight"
#: The --backend choices, from the backend registry; the --decoder choices are the codec's DECODER_PRESETS. Both
#: come without a torch import, so that argument errors come first and fast.
BACKEND_NAMES = backend_names()


@dataclass(frozen=True, slots=True)
class EstimatorOptions:
    """The estimator flags of one command line, as given."""

    model: str = DEFAULT_MODEL
    weights: Path | None = None
    device: str = "cpu"
    height: int | None = None
    scales: tuple[float, ...] = (1.0,)
    flip: bool = False
    decoder: str = "default"
    number_people_max: int = -1
    threads: int | None = None
    backend: str = "auto"
    max_input_side: int = DEFAULT_LIMITS.max_side
    max_input_pixels: int = DEFAULT_LIMITS.max_pixels
    max_map_pixels: int = DEFAULT_LIMITS.max_map_pixels
    hand: bool = False  # parts (parts_options): hands, face, feet, and the smallest person given them
    face: bool = False
    feet: bool = False
    part_min_size: float = 40.0
    decoder_fields: tuple[tuple[str, float], ...] = ()  # (field, value) given by the decoder flags, over the preset

    @property
    def limits(self) -> InputLimits:
        return InputLimits(max_side=self.max_input_side, max_pixels=self.max_input_pixels,
                           max_map_pixels=self.max_map_pixels)



def _parse_scales(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    try:
        scales = tuple(float(v) for v in value.replace(" ", "").split(","))
    except ValueError:  # also an empty item: "1,,0.5"
        raise click.BadParameter(f"expected comma-separated numbers such as 1,0.75,0.5, got {value!r}") from None
    if not scales or any(not 0 < s <= 4 for s in scales):
        raise click.BadParameter(f"each scale must be in (0, 4], got {value!r}")
    return scales


def _check_model(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..weights import get_spec

    try:
        get_spec(value)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0] if exc.args else exc)) from None
    return value


def check_weights_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A weights file or a registered name (``eval --compare-to``), else a usage error."""
    if value is None or Path(value).is_file():
        return value
    try:
        return _check_model(ctx, param, value)
    except click.BadParameter:
        raise click.BadParameter(f"{value!r} is neither a weights file nor a registered name "
                                 "(see `openpose-py weights list`)") from None


def _check_device(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == "cpu":  # the default needs no torch import: argument errors come first and fast
        return value
    import torch

    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        raise click.BadParameter(f"not a torch device: {value!r} (cpu, cuda, cuda:1, mps, auto)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise click.BadParameter(f"{value}: CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise click.BadParameter(f"{value}: only {torch.cuda.device_count()} CUDA device(s) present")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise click.BadParameter(f"{value}: MPS is not available on this machine")
    return value


#: The most CPU threads a command may ask for: torch crashes (a segfault, no message) on some far larger counts.
MAX_THREADS = 1024

_ESTIMATOR_OPTIONS: tuple[Callable[[Callable[..., Any]], Callable[..., Any]], ...] = (
    click.option("--model", "-m", default=DEFAULT_MODEL, show_default=True, metavar="NAME", callback=_check_model,
                 help="Registered weights name (see `openpose-py weights list`)."),
    click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="A weights file to load instead of the registered one (state_dict, safetensors, OpenVINO .xml)."),
    click.option("--device", default="cpu", show_default=True, callback=_check_device,
                 help="Torch device: cpu, cuda, cuda:N, mps, or auto."),
    click.option("--height", type=click.IntRange(min=16), default=None,
                 help="Network input height at scale 1 (default: the model's; OpenPose's -1x368 is --height 368)."),
    click.option("--scales", default="1", show_default=True, callback=_parse_scales,
                 help="Comma-separated input scales whose maps are averaged, e.g. 1,0.75,0.5."),
    click.option("--flip/--no-flip", default=False, show_default=True,
                 help="Also run the mirrored image and average the maps."),
    click.option("--decoder", type=click.Choice(DECODER_PRESETS), default="default", show_default=True,
                 help="Post-processing preset."),
    click.option("--number-people-max", type=click.IntRange(min=-1), default=-1, show_default=True,
                 help="Keep at most this many people per image, best scores first (-1: all)."),
    click.option("--threads", type=click.IntRange(min=1, max=MAX_THREADS), default=None,
                 help="CPU threads for torch and the CPU backends (default: the runtime's choice)."),
    click.option("--backend", type=click.Choice(BACKEND_NAMES), default="auto", show_default=True,
                 help="Network runtime: auto (the fastest installed one that keeps float32 accuracy: OpenVINO on the "
                      "model's own INT8 IR on a CPU, torch on a GPU), torch, ONNX Runtime or OpenVINO on an ONNX "
                      "export (float32), or OpenVINO on the INT8 IR (hpe-0001). Non-torch backends run on the CPU."),
    click.option("--max-input-side", type=click.IntRange(min=DEFAULT_LIMITS.min_side),
                 default=DEFAULT_LIMITS.max_side, show_default=True, metavar="PX",
                 help="Longest side of the network input; images that would need more (thin strips, big --height "
                      "or --scales) are scaled down to fit, with a warning."),
    click.option("--max-input-pixels", type=click.IntRange(min=1), default=DEFAULT_LIMITS.max_pixels,
                 show_default=True, metavar="PX",
                 help="Width x height of the network input; larger inputs are scaled down to fit, with a warning."),
)
_ESTIMATOR_KEYS = ("model", "weights", "device", "height", "scales", "flip", "decoder", "number_people_max", "threads",
                   "backend", "max_input_side", "max_input_pixels")


def _decoder_field_option(f: DecoderField) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decoder flag generated from the decoder's own description of the field (range included)."""
    kind = click.IntRange if f.integer else click.FloatRange
    return click.option(f.flag, f.name, type=kind(f.low, f.high), default=None, metavar="INT" if f.integer else "X",
                        help=f"{f.help} Default: the --decoder preset's.")


#: One flag per tunable decoder field (decode.fields.TUNABLE_FIELDS), as the server's query parameters.
_DECODER_FIELD_OPTIONS = tuple(_decoder_field_option(f) for f in tunable_fields())
#: Only where maps are resampled onto the image (``image --save-maps``); the command puts it into its
#: :class:`EstimatorOptions` itself.
max_map_pixels_option = click.option(
    "--max-map-pixels", type=click.IntRange(min=1), default=DEFAULT_LIMITS.max_map_pixels, show_default=True,
    metavar="PX", help="--save-maps pictures of larger images are drawn on a grid scaled down to this many pixels.")


def estimator_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: add the estimator flags to a click command, passed on as ``estimator_options=EstimatorOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = tuple((f.name, v) for f in tunable_fields() if (v := kwargs.pop(f.name)) is not None)
        opts = EstimatorOptions(**{key: kwargs.pop(key) for key in _ESTIMATOR_KEYS}, decoder_fields=given)
        return func(*args, estimator_options=opts, **kwargs)

    for option in reversed(_ESTIMATOR_OPTIONS + _DECODER_FIELD_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def build_estimator(opts: EstimatorOptions, **decoder_overrides: Any) -> "PoseEstimator":
    """Load the estimator the flags describe (the model name was checked against the registry when parsed).

    ``decoder_overrides`` replace fields of the chosen decoder preset (``eval --person-score``, say).
    """
    import torch

    from ..decode.decoder import DecoderConfig
    from ..inference import PoseEstimator

    least = opts.max_input_side * DEFAULT_LIMITS.min_side
    if opts.max_input_pixels < least:
        raise click.UsageError(f"--max-input-pixels must be at least --max-input-side x {DEFAULT_LIMITS.min_side} "
                               f"= {least}, got {opts.max_input_pixels}")
    if opts.threads is not None:
        torch.set_num_threads(opts.threads)
    max_people = None if opts.number_people_max < 0 else opts.number_people_max
    try:
        decoder = DecoderConfig.preset(opts.decoder, max_people=max_people,
                                       **{**dict(opts.decoder_fields), **decoder_overrides})
    except ValueError as exc:  # a combination the flags' own ranges let through
        raise click.UsageError(str(exc)) from None
    try:
        return PoseEstimator.from_pretrained(opts.model, device=opts.device, height=opts.height, scales=opts.scales,
                                             flip=opts.flip, decoder=decoder, weights=opts.weights,
                                             backend=opts.backend, threads=opts.threads, limits=opts.limits,
                                             parts=_parts_config(opts))
    except ValueError as exc:  # an option combination the library refuses (a CPU backend on a GPU device, ...)
        raise click.UsageError(str(exc)) from None


def render_threshold_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--render-threshold``: keypoints at or below this score are not drawn (OpenPose's default 0.05)."""
    return click.option("--render-threshold", type=click.FloatRange(0.0, 1.0), default=0.05, show_default=True,
                        help="Do not draw keypoints (and their limbs) scoring at or below this.")(func)


def keypoint_scale_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--keypoint-scale``: OpenPose's coordinate modes for JSON output, 0 (pixels), 3 ([0,1]) or 4 ([-1,1])."""
    return click.option("--keypoint-scale", type=click.Choice(["0", "3", "4"]), default="0", show_default=True,
                        help="JSON coordinates: 0 = pixels, 3 = [0,1] by image size, 4 = [-1,1] (OpenPose's modes).")(
        func)


#: ``--render-style`` choices: OpenPose's skeletons over the frame, or ControlNet's pose pictures (black canvas).
RENDER_STYLES = ("openpose", "controlnet")


def parse_size(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    """click callback: ``WIDTHxHEIGHT`` -> (width, height)."""
    if value is None:
        return None
    width, sep, height = value.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and 0 < int(width) <= 16384 and 0 < int(height) <= 16384):
        raise click.BadParameter(f"expected WIDTHxHEIGHT, each 1 to 16384, such as 512x768, got {value!r}")
    return int(width), int(height)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """The render flags of one command line, as given."""

    threshold: float = 0.05
    style: str = "openpose"
    size: tuple[int, int] | None = None

    def painter(self) -> "Painter":
        return render_style(self.threshold, self.style, self.size)


def render_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--render-threshold``, ``--render-style openpose|controlnet`` and ``--render-size WxH`` (the pictures' size;
    the source's if not given), handed to the command as one :class:`RenderOptions` (keyword ``render``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opts = RenderOptions(kwargs.pop("render_threshold"), kwargs.pop("render_style_name"), kwargs.pop("render_size"))
        if opts.size is not None and opts.style != "controlnet":
            raise click.UsageError("--render-size is for --render-style controlnet")
        return func(*args, render=opts, **kwargs)

    wrapper = click.option("--render-size", callback=parse_size, default=None, metavar="WxH",
                           help="Draw the pictures at this size (--render-style controlnet; default: the source's)."
                           )(wrapper)
    wrapper = click.option("--render-style", "render_style_name", type=click.Choice(RENDER_STYLES),
                           default="openpose", show_default=True,
                           help="openpose: skeletons over the picture; controlnet: ControlNet's OpenPose pose "
                                "pictures (black canvas, as controlnet_aux draws them) for image and video "
                                "generation.")(wrapper)
    return render_threshold_option(wrapper)


def render_style(threshold: float, style: str = "openpose", size: tuple[int, int] | None = None) -> "Painter":
    """What the sinks draw with, from the render flags."""
    if style == "controlnet":
        from ..controlnet import ControlNetStyle

        return ControlNetStyle(threshold=threshold, size=size)
    from ..render import RenderStyle

    return RenderStyle(threshold=threshold)


def keypoint_scale(value: str) -> "KeypointScale":
    from ..video import KeypointScale

    return KeypointScale(int(value))


def quiet_video_backends() -> None:
    """Keep OpenCV's and FFmpeg's own stderr chatter out of the terminal unless debug logging is on.

    Errors reach the user as one-line messages from this package instead; FFmpeg reads its level when the first
    capture opens, so this must run before any video is opened.
    """
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    import cv2

    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


# ---- hands, faces and feet (issue 27) --------------------------------------------------------------------------------
_PARTS_OPTIONS: tuple[Callable[[Callable[..., Any]], Callable[..., Any]], ...] = (
    click.option("--hand", is_flag=True, help="Also find both hands of every person (21 points each, OpenPose's "
                 "hand_left/right_keypoints_2d), from MediaPipe's hand network on crops at the wrists."),
    click.option("--face", is_flag=True, help="Also find every person's face (70 points: 68 landmarks and the "
                 "pupils, OpenPose's face_keypoints_2d), from MediaPipe's face mesh and iris networks."),
    click.option("--feet", is_flag=True, help="Write bodies in BODY_25 order with MidHip, heels and big toes (small "
                 "toes stay missing), from MediaPipe's whole-body pose network on a crop of each person."),
    click.option("--part-min-size", type=click.FloatRange(min=0.0), default=40.0, show_default=True, metavar="PX",
                 help="People smaller than this (the longer side of their keypoint box) get no hands, face or feet."),
)


def parts_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator (below ``@estimator_options``): add --hand, --face, --feet and --part-min-size, folded into the
    command's ``estimator_options``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = {"hand": kwargs.pop("hand"), "face": kwargs.pop("face"), "feet": kwargs.pop("feet"),
                  "part_min_size": kwargs.pop("part_min_size")}
        kwargs["estimator_options"] = replace(kwargs["estimator_options"], **chosen)
        return func(*args, **kwargs)

    for option in reversed(_PARTS_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def _parts_config(opts: EstimatorOptions):
    from ..parts.config import PartsConfig

    return PartsConfig(hands=opts.hand, face=opts.face, feet=opts.feet, min_person_size=opts.part_min_size,
                       threads=opts.threads)
