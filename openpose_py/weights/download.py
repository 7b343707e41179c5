"""Downloading a weights file into the cache: progress bar, size and sha256 checks, atomic publication."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..atomic import publish_file
from ..errors import ChecksumError, OpenPoseError, WeightsError, WeightsNotFoundError
from .places import cache_dir
from .spec import WeightsSource

__all__ = ["download"]

log = logging.getLogger(__name__)


def download(source: WeightsSource, dest_dir: str | Path | None = None, *, progress: bool = True,
             timeout: float = 60.0) -> Path:
    """Download ``source.url`` into ``dest_dir`` (default: the cache) as ``source.filename``.

    The bytes go to a temporary file in the same directory, are checked (length, size, sha256) and only then renamed
    into place, so a failed or corrupt download never leaves a file behind. Returns the final path.
    """
    if not source.url:
        raise WeightsNotFoundError(f"{source.filename} has no download URL")
    dest_dir = Path(dest_dir) if dest_dir is not None else cache_dir()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{source.filename}.", suffix=".part", dir=dest_dir)
    except OSError as exc:
        raise WeightsError(f"cannot write into {dest_dir}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, count, announced = _fetch(source, out, progress, timeout)
        if announced is not None and count != announced:
            raise WeightsError(f"download of {source.url} truncated: got {count} of {announced} bytes")
        if source.size is not None and count != source.size:
            raise WeightsError(f"download of {source.url} has {count} bytes, expected {source.size}")
        if source.sha256 and digest != source.sha256.lower():
            raise ChecksumError(f"download of {source.url} has sha256 {digest}, expected {source.sha256}")
        if not source.sha256:
            log.warning("%s cannot be verified: no sha256 is published (downloaded copy: %s)", source.filename, digest)
        final = dest_dir / source.filename
        publish_file(tmp, final)
        log.info("downloaded %s to %s", source.url, final)
        return final
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(source: WeightsSource, out, progress: bool, timeout: float) -> tuple[str, int, int | None]:
    from tqdm.auto import tqdm

    request = urllib.request.Request(source.url, headers={"User-Agent": "openpose-py"})
    digest, count = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.isdigit() else None
            with tqdm(total=announced or source.size, unit="B", unit_scale=True, desc=source.filename,
                      disable=None if progress else True, leave=False) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    count += len(chunk)
                    bar.update(len(chunk))
    except OpenPoseError:
        raise
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"download of {source.url} failed: HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        raise WeightsError(f"download of {source.url} truncated: got {count + len(exc.partial)} bytes, "
                           f"connection closed early") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WeightsError(f"download of {source.url} failed: {reason}") from None
    return digest.hexdigest(), count, announced

