"""The ``openpose-py`` command group.

Sub-commands live in their own modules and are imported only when invoked, so ``--help`` stays fast. Every
:class:`~openpose_py.errors.OpenPoseError` becomes a one-line message on stderr and exit status 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

from ..errors import OpenPoseError

__all__ = ["cli", "main"]

# name -> (module, attribute, one-line help shown in the group listing)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "image": ("image", "image", "Estimate poses on images, folders or globs."),
    "video": ("video", "video", "Estimate poses on a video file or stream."),
    "webcam": ("webcam", "webcam", "Live pose estimation from a camera."),
    "weights": ("weights", "weights", "List, fetch, import and verify weights files."),
    "eval": ("evaluate", "eval_cmd", "COCO keypoint AP of a model on a COCO-format set."),
    "export": ("export", "export", "Export a network to ONNX or TorchScript."),
    "train": ("train", "train", "Train or fine-tune a network on COCO-format data."),
    "serve": ("serve", "serve", "Serve poses over HTTP and a live camera page."),
    "calibrate": ("calibrate", "calibrate", "Calibrate cameras from checkerboard pictures."),
    "triangulate": ("triangulate", "triangulate", "3-D people from several calibrated cameras' JSON."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (mod, _, _) in _COMMANDS.items() if importlib.util.find_spec(f"{__name__}.{mod}"))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS or name not in self.list_commands(ctx):
            return None
        mod, attr, _ = _COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, _COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", type=click.Choice(["warning", "info", "debug"]), default="warning", show_default=True,
              help="How much the library logs to stderr.")
@click.version_option(package_name="openpose-py")
def cli(log_level: str) -> None:
    """openpose-py: multi-person 2D pose estimation (OpenPose) in PyTorch.

    \b
    Quick start:
      openpose-py image photo.jpg --render-dir out/ --json-dir out/
      openpose-py video clip.mp4 --output clip_pose.mp4
      openpose-py weights list
    """
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the group, turning library errors into one-line messages; SIGTERM and SIGHUP
    stop a run like Ctrl-C does (exit status 128 + the signal's number)."""
    from . import signals

    signals.install()
    try:
        # without standalone mode click returns (rather than raises) the status of ctx.exit(n) / Exit(n)
        status = cli.main(args=argv, prog_name="openpose-py", standalone_mode=False)
        if isinstance(status, int) and status:
            sys.exit(status)
    except click.exceptions.Abort as exc:  # click's name for a KeyboardInterrupt (Ctrl-C, SIGTERM) in a command
        click.echo("Interrupted." if isinstance(exc.__cause__, KeyboardInterrupt) else "Aborted.", err=True)
        sys.exit(signals.exit_status())
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OpenPoseError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(signals.exit_status())
