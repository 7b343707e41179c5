"""``openpose-py calibrate``: cameras from checkerboard pictures (a folder of images or a video per camera)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["calibrate"]


@click.command("calibrate")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--board", required=True, metavar="COLSxROWS",
              help="Inner corners of the checkerboard per row and per column, e.g. 9x6.")
@click.option("--square", required=True, type=click.FloatRange(min=0.0, min_open=True),
              help="Side of one square, in the unit the calibration will use (e.g. 0.03 for metres).")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Calibration file: .toml (Pose2Sim), .xml (OpenPose layout) or .yml/.yaml (OpenCV layout).")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="Use every N-th picture of each camera (videos: every N-th frame).")
@click.option("--shared-view", type=click.IntRange(min=0), default=None,
              help="Rank (after --every) of the picture that places the cameras: every camera must see the board "
                   "there. [default: the first such picture]")
@click.option("--rational", is_flag=True, help="Fit OpenCV's 8-coefficient rational lens model (wide lenses).")
def calibrate(sources: tuple[Path, ...], board: str, square: float, output: Path, every: int,
              shared_view: int | None, rational: bool) -> None:
    """Calibrate cameras from checkerboard pictures, one SOURCE per camera.

    A SOURCE is a folder of images or a video; pictures are paired across cameras by rank (synchronized). Each
    camera's intrinsics (K, distortion) come from all its pictures with the board; the cameras are placed by one
    picture in which every camera sees the board, whose frame becomes the world. Camera names are the SOURCE names.
    Prints each camera's RMS reprojection error (pixels).

    \b
    Examples:
      openpose-py calibrate --board 9x6 --square 0.03 --output calib.toml cam1/ cam2/ cam3/ cam4/
      openpose-py calibrate --board 8x5 --square 40 --every 10 --output calib.yml left.mp4 right.mp4
    """
    from ..atomic import ensure_writable_dir
    from ..multiview import write_calibration
    from ..multiview.boards import Board
    from ..multiview.calibrate import calibrate_cameras, corners_of

    if output.suffix.lower() not in (".toml", ".xml", ".yml", ".yaml"):
        raise click.BadParameter("the file must end in .toml, .xml, .yml or .yaml", param_hint="--output")
    names = [s.stem for s in sources]
    if len(set(names)) != len(names):
        raise click.UsageError(f"two sources share a name ({', '.join(names)}): the cameras need distinct names")
    board_spec = Board.parse(board, square)
    ensure_writable_dir(output.parent)
    corners, sizes = [], []
    for source in sources:
        found, size = corners_of(source, board_spec, every)
        click.echo(f"{source.name}: board found in {sum(c is not None for c in found)} of {len(found)} pictures")
        corners.append(found)
        sizes.append(size)
    cameras, reports = calibrate_cameras(corners, sizes, names, board_spec, shared_view, rational)
    write_calibration(output, cameras)
    for r in reports:
        click.echo(f"{r.name}: {r.views} views, RMS reprojection error {r.intrinsic_rms:.3f} px "
                   f"(shared view {r.extrinsic_rms:.3f} px)")
    click.echo(f"Wrote {output}")
