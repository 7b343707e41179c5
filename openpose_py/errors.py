"""Exception types. Every error a user can cause derives from :class:`OpenPoseError`; the CLI prints its message."""

from __future__ import annotations

__all__ = [
    "OpenPoseError", "ImageReadError", "VideoError", "CameraError", "WeightsError", "WeightsNotFoundError",
    "ChecksumError", "ArchitectureMismatchError", "DatasetError", "OutputError", "TrainConfigError",
    "DistributedError", "first_line",
]


class OpenPoseError(Exception):
    """Base class: a problem with the user's input or environment, described in one line."""


class ImageReadError(OpenPoseError, ValueError):
    """An image that cannot be read or is not a usable picture."""


class VideoError(OpenPoseError):
    """A video file or stream that cannot be opened, decoded or written."""


class CameraError(VideoError):
    """A camera that cannot be opened."""


class WeightsError(OpenPoseError):
    """A weights file that cannot be used."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """No weights file could be found locally or downloaded."""


class ChecksumError(WeightsError):
    """A weights file whose sha256 differs from the registered one."""


class ArchitectureMismatchError(WeightsError):
    """A weights file whose tensors do not fit the requested network."""


class DatasetError(OpenPoseError):
    """A dataset directory or annotation file that cannot be used."""


class OutputError(OpenPoseError):
    """An output file or directory that cannot be written."""


class TrainConfigError(OpenPoseError, ValueError):
    """A training configuration (file or options) that cannot be used."""


class DistributedError(OpenPoseError):
    """A run under torchrun whose environment or process group cannot be used."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of ``exc``'s message, or its type's name when it has none: the cause a one-line error
    can quote (some libraries raise with an empty or many-line message)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
