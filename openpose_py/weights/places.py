"""Where weights live on this machine: the folder in ``$OPENPOSE_PY_WEIGHTS_DIR``, the files shipped with the package,
the user cache (downloads and converted files), and the hashes that vouch for each file.

Every converted file in the cache has a sidecar ``<file>.sha256`` written with it; :func:`verified_converted` accepts
a converted file only when its bytes still hash to that value, so a corrupted cache entry is rebuilt from the original
files (and replaced) instead of silently giving a broken network.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from ..errors import WeightsError

__all__ = [
    "ENV_WEIGHTS_DIR", "ENV_CACHE_DIR", "ENV_OFFLINE", "weights_dir", "shipped_dir", "cache_dir", "is_offline",
    "sha256_file", "converted_path", "record_converted", "verified_converted",
]

log = logging.getLogger(__name__)

ENV_WEIGHTS_DIR = "OPENPOSE_PY_WEIGHTS_DIR"
ENV_CACHE_DIR = "OPENPOSE_PY_CACHE_DIR"
ENV_OFFLINE = "OPENPOSE_PY_OFFLINE"
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def weights_dir() -> Path | None:
    """The directory named by ``$OPENPOSE_PY_WEIGHTS_DIR``, or None when unset.

    Raises :class:`WeightsError` when the variable names something that is not a directory: a typo there would
    otherwise send every lookup elsewhere without a word.
    """
    value = os.environ.get(ENV_WEIGHTS_DIR, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        what = "a file, not a directory" if path.exists() else "no such directory"
        raise WeightsError(f"${ENV_WEIGHTS_DIR}={value}: {what}; point it at the folder that holds the weights "
                           f"files, or unset it")
    return path


def shipped_dir() -> Path | None:
    """The weights shipped with the package: ``openpose_py/_weights`` (a link to the checkout's top-level ``weights/``
    folder, copied into the wheel as package data), or None when absent."""
    path = _PACKAGE_ROOT / "_weights"
    return path if path.is_dir() else None


def cache_dir() -> Path:
    """The user cache: ``$OPENPOSE_PY_CACHE_DIR`` or ``~/.cache/openpose_py`` (not created here)."""
    value = os.environ.get(ENV_CACHE_DIR, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "openpose_py"


def is_offline() -> bool:
    """True when ``$OPENPOSE_PY_OFFLINE`` is set to anything but empty/0/false/no."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (memoised per path, size and modification time within the process)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def converted_path(sha256: str) -> Path:
    """Where the conversion of a source file with this sha256 is cached."""
    return cache_dir() / "converted" / f"{sha256}.safetensors"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def record_converted(path: Path) -> None:
    """Write the sidecar hash of a freshly written converted file (after the file itself is in place)."""
    from ..atomic import atomic_path

    with atomic_path(_sidecar(path), suffix=".part") as tmp:
        tmp.write_text(sha256_file(path) + "\n")


def matches_record(path: Path, what: str) -> bool:
    """Whether a cached file made by this package (a weights conversion, an ONNX export) exists and matches the hash
    :func:`record_converted` recorded for it; a mismatch or a missing record is logged (the caller then makes the
    file again, atomically replacing it and its record)."""
    if not path.is_file():
        return False
    sidecar = _sidecar(path)
    recorded = sidecar.read_text().strip() if sidecar.is_file() else ""
    actual = sha256_file(path)
    if recorded == actual:
        return True
    if recorded:
        log.warning("ignoring corrupt %s %s (sha256 %s, recorded %s); making it again", what, path, actual, recorded)
    else:
        log.info("%s %s has no recorded sha256; making it again", what, path)
    return False


def verified_converted(sha256: str) -> Path | None:
    """The cached conversion of the source with this sha256 when it exists and matches its recorded hash, else None
    (the caller then converts the original again)."""
    path = converted_path(sha256)
    return path if matches_record(path, "converted weights") else None
