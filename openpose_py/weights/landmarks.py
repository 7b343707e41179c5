"""MediaPipe's landmark networks (hands, face mesh, irises, whole-body pose with feet): their registry entries and
where their files are found.

The files are MediaPipe's own ``.tflite`` (Apache-2.0), read directly by OpenVINO. Those the package uses ship with
it in ``openpose_py/_weights/mediapipe-0.10.21/`` (the checkout's ``weights/``), so they work offline right after
installation. A file is looked for, in order, under ``$OPENPOSE_PY_WEIGHTS_DIR`` (recursively, by file name), among
the shipped files, in the user cache, then downloaded from MediaPipe's model storage into the cache (not when
``$OPENPOSE_PY_OFFLINE`` is set). Every copy is checked against the sha256 of the ``mediapipe`` 0.10.21 wheel's file;
the second source is that wheel on the Python package index (``pip download mediapipe==0.10.21``), whose member path
each entry names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ChecksumError, WeightsError, WeightsNotFoundError
from .download import download
from .places import cache_dir, is_offline, sha256_file, shipped_dir, weights_dir
from .spec import WeightsSource

__all__ = ["LandmarkWeights", "LANDMARK_WEIGHTS", "MEDIAPIPE_VERSION", "landmark_path"]

MEDIAPIPE_VERSION = "0.10.21"
_STORAGE = "https://storage.googleapis.com/mediapipe-assets/"
_SHIPPED_FOLDER = f"mediapipe-{MEDIAPIPE_VERSION}"


@dataclass(frozen=True, slots=True)
class LandmarkWeights:
    """One MediaPipe landmark network file: what it is, its hash and size, its licence and its two sources."""

    name: str
    filename: str
    sha256: str
    size: int
    wheel_member: str  # path inside the mediapipe 0.10.21 wheel
    description: str
    license: str = "Apache-2.0"

    @property
    def url(self) -> str:
        """MediaPipe's model storage (the first source)."""
        return _STORAGE + self.filename

    @property
    def wheel(self) -> str:
        """The second source: the member of the ``mediapipe`` wheel on the package index."""
        return f"mediapipe=={MEDIAPIPE_VERSION} wheel (pip download mediapipe=={MEDIAPIPE_VERSION}), member " \
               f"{self.wheel_member}"


LANDMARK_WEIGHTS: dict[str, LandmarkWeights] = {w.name: w for w in (
    LandmarkWeights("hand", "hand_landmark_full.tflite",
                    "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3", 5478917,
                    "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
                    "21 hand landmarks (OpenPose's hand order) and a presence score from a 224x224 hand crop"),
    LandmarkWeights("face", "face_landmark.tflite",
                    "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", 1242398,
                    "mediapipe/modules/face_landmark/face_landmark.tflite",
                    "468-point face mesh and a presence score from a 192x192 face crop"),
    LandmarkWeights("iris", "iris_landmark.tflite",
                    "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f", 2640568,
                    "mediapipe/modules/iris_landmark/iris_landmark.tflite",
                    "71 eye contour points and 5 iris points (centre first) from a 64x64 eye crop"),
    LandmarkWeights("pose", "pose_landmark_full.tflite",
                    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", 6440512,
                    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                    "33 BlazePose landmarks (heels and foot tips included) from a 256x256 person crop"),
)}


def _candidates(entry: LandmarkWeights) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    root = weights_dir()
    if root is not None:
        out += [(p, "weights dir") for p in sorted(root.rglob(entry.filename))]
    shipped = shipped_dir()
    if shipped is not None:
        out.append((shipped / _SHIPPED_FOLDER / entry.filename, "shipped"))
    out.append((cache_dir() / entry.filename, "cache"))
    return [(p, where) for p, where in out if p.is_file()]


def landmark_path(name: str, *, allow_download: bool = True) -> Path:
    """The verified local file of landmark network ``name`` (``hand``, ``face``, ``iris``, ``pose``).

    Raises :class:`WeightsNotFoundError` when no copy is found (and none may be downloaded), :class:`ChecksumError`
    when the only copies found have the wrong sha256.
    """
    if name not in LANDMARK_WEIGHTS:
        raise WeightsNotFoundError(f"unknown landmark network {name!r}; known: {', '.join(LANDMARK_WEIGHTS)}")
    entry = LANDMARK_WEIGHTS[name]
    bad = []
    for path, _where in _candidates(entry):
        if sha256_file(path) == entry.sha256:
            return path
        bad.append(path)
    if allow_download and not is_offline():
        source = WeightsSource(entry.filename, entry.sha256, entry.size, entry.url, format="tflite")
        try:
            return download(source)
        except WeightsError as exc:
            failed = f" (download failed: {exc})"
    else:
        failed = " (no download: offline)" if allow_download else ""
    where = f"{failed}; obtain it from {entry.url} or the {entry.wheel}"
    if bad:
        raise ChecksumError(f"{bad[0]} does not have the sha256 of {entry.filename} ({entry.sha256}){where}")
    raise WeightsNotFoundError(f"{entry.filename} ({entry.description}) not found{where}")
