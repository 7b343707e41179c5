"""``openpose-py triangulate``: per-camera OpenPose JSON folders (or synchronized videos) + a calibration -> 3-D people
(OpenPose JSON with ``pose_keypoints_3d``) and one OpenSim TRC file per person."""

from __future__ import annotations

from pathlib import Path

import click

from .options import EstimatorOptions, build_estimator, estimator_options

__all__ = ["triangulate"]

_SKELETONS = ("COCO_18", "BODY_25", "MPI_15")  # openpose_py.skeleton.SKELETONS, without importing numpy for --help
_UNITS = ("m", "mm", "cm")  # openpose_py.multiview.files.TRC_UNITS


@click.command("triangulate")
@click.argument("camera_dirs", nargs=-1, required=True, metavar="CAM_DIR_OR_VIDEO...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--calibration", required=True, type=click.Path(exists=True, path_type=Path),
              help="Calibration: Pose2Sim .toml, OpenPose/OpenCV .xml/.yml/.yaml, or a folder of per-camera files.")
@click.option("--json-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one OpenPose JSON per frame, with pose_keypoints_3d (x, y, z, score) per person.")
@click.option("--trc-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the OpenSim TRC file of each person (person_<id>.trc). [default: --json-dir]")
@click.option("--fps", type=click.FloatRange(min=0.0, min_open=True), default=None,
              help="Frame rate of the synchronized cameras (TRC times, tracking, smoothing). [default: the videos' "
                   "rate, or 30]")
@click.option("--units", type=click.Choice(_UNITS), default="m", show_default=True,
              help="The calibration's length unit, as the TRC header states it (Pose2Sim calibrations are in m).")
@click.option("--skeleton", type=click.Choice(_SKELETONS), default=None,
              help="Keypoint set of the JSON files. [default: from the number of values per person]")
@click.option("--reprojection-threshold", type=click.FloatRange(min=0.0, min_open=True), default=15.0,
              show_default=True, help="Pixels within which a view agrees with a triangulated keypoint.")
@click.option("--match-threshold", type=click.FloatRange(min=0.0, min_open=True), default=25.0, show_default=True,
              help="Pixels (median epipolar or reprojection distance) under which people of two views are matched.")
@click.option("--min-views", type=click.IntRange(min=2), default=2, show_default=True,
              help="Views a keypoint needs to be triangulated.")
@click.option("--track/--no-track", default=True, show_default=True,
              help="Carry 3-D person ids across frames (needed for the TRC files).")
@click.option("--track-max-age", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Seconds a person may go unseen and keep their id.")
@click.option("--smooth/--no-smooth", default=False, show_default=True,
              help="One-Euro filter on each person's 3-D keypoints (needs --track).")
@click.option("--smooth-min-cutoff", type=click.FloatRange(min=0.0, min_open=True), default=1.0, show_default=True,
              help="One-Euro cutoff (Hz) of still keypoints: lower smooths more.")
@click.option("--smooth-beta", type=click.FloatRange(min=0.0), default=0.5, show_default=True,
              help="One-Euro speed coefficient (per calibration unit/s): higher lags less on fast moves.")
@estimator_options
def triangulate(camera_dirs: tuple[Path, ...], calibration: Path, json_dir: Path, trc_dir: Path | None,
                fps: float | None, units: str, skeleton: str | None, reprojection_threshold: float,
                match_threshold: float, min_views: int, track: bool, track_max_age: float, smooth: bool,
                smooth_min_cutoff: float, smooth_beta: float, estimator_options: EstimatorOptions) -> None:
    """Triangulate the people of several synchronized, calibrated cameras.

    Each CAM_DIR holds one camera's OpenPose JSON, a file per frame; frames are paired by their rank in name order.
    Or give one synchronized video per camera: each frame of each video goes through the pose estimator (the model
    flags below) first, frames paired by index. Sources named after the calibration's cameras (folder name, video
    file stem) are matched by name, others are taken in the calibration's order.
    Points are undistorted, matched across views without ids, triangulated per keypoint from the views that agree
    (weighted DLT, then refined on the reprojection error), and people keep ids across frames.

    \b
    Examples:
      openpose-py triangulate --calibration calib.toml --json-dir out/ cam01/ cam02/ cam03/ cam04/
      openpose-py triangulate --calibration openpose_calib/ --units mm --fps 60 --smooth --json-dir out/ c0/ c1/
      openpose-py triangulate --calibration calib.toml --json-dir out/ cam01.mp4 cam02.mp4 cam03.mp4
    """
    from ..multiview import MultiviewConfig, TriangulationConfig
    from ..multiview.folders import TriangulateJob, run_triangulate
    from ..multiview.tracking import Tracker3DConfig
    from ..track.one_euro import SmoothingConfig

    if smooth and not track:
        raise click.UsageError("--smooth needs --track")
    config = MultiviewConfig(TriangulationConfig(reprojection_threshold, min_views), match_threshold)
    tracking = Tracker3DConfig(max_age=track_max_age, smoothing=SmoothingConfig(smooth_min_cutoff, smooth_beta)
                               if smooth else None) if track else None
    job = TriangulateJob(calibration, camera_dirs, json_dir, trc_dir, fps, units, skeleton, config, tracking)
    videos = [d for d in camera_dirs if not d.is_dir()]
    if videos and len(videos) != len(camera_dirs):
        raise click.UsageError("give camera folders of OpenPose JSON, or one video per camera, not both")
    counts = run_triangulate(job, build_estimator(estimator_options) if videos else None)
    click.echo(f"{counts['frames']} frames, {counts['people']} people in 3-D, {counts['tracks']} tracks "
               f"(JSON in {json_dir}, TRC in {trc_dir or json_dir})")
