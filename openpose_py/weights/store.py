"""Finding the files of a registered entry: which copies exist, whether their sha256 matches, which one is used.

Resolution of a registered name (:func:`locate`), first hit wins:

1. files found recursively, by file name, under ``$OPENPOSE_PY_WEIGHTS_DIR``, sha256-checked;
2. the files shipped with the package (the default model, ``lightweight``), sha256-checked;
3. the user cache ``$OPENPOSE_PY_CACHE_DIR`` (default ``~/.cache/openpose_py``), sha256-checked;
4. a download into the cache (progress bar, sha256 check, atomic write), unless ``download=False`` or
   ``$OPENPOSE_PY_OFFLINE`` is set.

(An explicit path given by the user comes before all of these; :func:`resolve` takes one as it is.) A copy with the
wrong sha256 is passed over when another is good. When nothing usable is found, for whatever reason (nothing there,
offline, a refused or failed download, only corrupt copies), one :class:`WeightsNotFoundError` (or
:class:`ChecksumError`) names every place looked at, why each failed, and where to put the files.

:func:`find_local` is the one account of what is present, converted cache entries included: ``weights list`` and
``weights verify``, the loader and the backends all read it.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from ..errors import ChecksumError, WeightsError, WeightsNotFoundError
from .download import download
from .places import ENV_OFFLINE, ENV_WEIGHTS_DIR, cache_dir, is_offline, sha256_file, shipped_dir, verified_converted
from .places import weights_dir
from .registry import get_spec, list_specs
from .spec import WeightsSource, WeightsSpec

__all__ = ["Status", "LocalFile", "Located", "find_local", "groups", "locate", "resolve", "is_present",
           "not_found_message"]

log = logging.getLogger(__name__)

#: ``converted``: a verified conversion of the source in the cache (the original need not be present).
Status = Literal["ok", "mismatch", "unverified", "missing", "converted"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A local candidate for one source: where it is (None when missing), its sha256 status and actual hash.

    ``location`` is ``"weights dir"``, ``"shipped"``, ``"cache"``, ``"converted"`` or ``"beside"`` (a companion
    next to its primary file).
    """

    source: WeightsSource
    path: Path | None
    status: Status
    sha256: str = ""
    location: str = ""


def _check(source: WeightsSource, path: Path, location: str) -> LocalFile:
    actual = sha256_file(path)
    if not source.sha256:
        return LocalFile(source, path, "unverified", actual, location)
    return LocalFile(source, path, "ok" if actual == source.sha256.lower() else "mismatch", actual, location)


def _roots() -> list[tuple[Path, str, bool]]:
    """(folder, location name, searched recursively) in resolution order."""
    roots = []
    root = weights_dir()
    if root is not None:
        roots.append((root, "weights dir", True))
    shipped = shipped_dir()
    if shipped is not None:
        roots.append((shipped, "shipped", False))
    roots.append((cache_dir(), "cache", False))
    return roots


def _candidates(source: WeightsSource) -> Iterator[LocalFile]:
    for root, location, recursive in _roots():
        paths = sorted(root.rglob(source.filename)) if recursive else [root / source.filename]
        for path in paths:
            if path.is_file():
                yield _check(source, path, location)


def find_local(spec: WeightsSpec | str) -> list[LocalFile]:
    """Every local candidate of every source of ``spec`` (a spec or registered name), hashed, and the verified
    conversions of its sources in the cache.

    A source without any candidate appears once with ``status="missing"`` and ``path=None``.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    out: list[LocalFile] = []
    for source in spec.sources:
        found = list(_candidates(source))
        converted = verified_converted(source.sha256) if source.sha256 and not source.companion else None
        if converted is not None:
            found.append(LocalFile(source, converted, "converted", source.sha256, "converted"))
        out += found or [LocalFile(source, None, "missing")]
    return out


def is_present(spec: WeightsSpec | str) -> bool:
    """Whether the entry can be loaded without a download: a verified conversion, or a usable primary file with its
    companions."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    if any(f.status == "converted" for f in find_local(spec)):
        return True
    return _locate_local(spec, []) is not None


def groups(spec: WeightsSpec) -> list[tuple[WeightsSource, tuple[WeightsSource, ...]]]:
    """Primary sources with the companions listed after each."""
    out: list[tuple[WeightsSource, list[WeightsSource]]] = []
    for source in spec.sources:
        if source.companion:
            if not out:
                raise ValueError(f"weights {spec.name!r}: companion {source.filename} listed before any primary file")
            out[-1][1].append(source)
        else:
            out.append((source, []))
    return [(primary, tuple(companions)) for primary, companions in out]


@dataclass(frozen=True, slots=True)
class Located:
    """The primary file chosen for an entry and its companions (companion filename -> path)."""

    source: WeightsSource
    path: Path
    companions: dict[str, Path]


def _accept(found: LocalFile) -> bool:
    if found.status == "unverified":
        log.warning("%s cannot be verified: no sha256 is published for %s (sha256 of this copy: %s)",
                    found.path, found.source.filename, found.sha256)
    return found.status in ("ok", "unverified")


def _find_good(source: WeightsSource, mismatches: list[LocalFile], beside: Path | None = None) -> Path | None:
    """The first acceptable copy of ``source`` (one in ``beside`` first: an IR's .bin next to its .xml)."""
    first = [_check(source, beside / source.filename, "beside")] if beside and (beside / source.filename).is_file() \
        else []
    seen: set[Path] = set()
    for found in itertools.chain(first, _candidates(source)):
        assert found.path is not None
        if found.path.resolve() in seen:
            continue
        seen.add(found.path.resolve())
        if _accept(found):
            return found.path
        mismatches.append(found)
    return None


def _locate_local(spec: WeightsSpec, mismatches: list[LocalFile]) -> Located | None:
    for primary, companions in groups(spec):
        path = _find_good(primary, mismatches)
        if path is None:
            continue
        found = {c.filename: _find_good(c, mismatches, beside=path.parent) for c in companions}
        if all(p is not None for p in found.values()):
            return Located(primary, path, found)  # type: ignore[arg-type]
        log.info("%s found at %s but its companion file(s) %s are not", primary.filename, path,
                 ", ".join(n for n, p in found.items() if p is None))
    return None


def _places(spec: WeightsSpec, download_note: str) -> str:
    names = " / ".join(
        primary.filename + (f" (+ {', '.join(c.filename for c in comps)})" if comps else "")
        for primary, comps in groups(spec)
    )
    where = [f"{root} ({location}{', recursively' if recursive else ''})" for root, location, recursive in _roots()]
    if weights_dir() is None:
        where.insert(0, f"${ENV_WEIGHTS_DIR} (not set)")
    urls = [s.url for s in spec.sources if s.url and not s.companion]
    published = urls[0] if urls else spec.published or "no public URL registered"
    if spec.published and urls:
        published += f" (see {spec.published})"
    return (f"looked for {names} in {', '.join(where)}; {download_note}; obtain the file(s) from {published} and put "
            f"them in a folder named by ${ENV_WEIGHTS_DIR} or in {cache_dir()}")


def locate(spec: WeightsSpec, *, allow_download: bool = True) -> Located:
    """The files of ``spec`` to read, found locally or downloaded into the cache; see the module docstring."""
    mismatches: list[LocalFile] = []
    located = _locate_local(spec, mismatches)
    if located is not None:
        for bad in mismatches:
            log.warning("ignoring %s: sha256 %s, expected %s", bad.path, bad.sha256, bad.source.sha256)
        return located
    if not allow_download:
        note = "no download (download=False)"
    elif is_offline():
        note = f"no download (${ENV_OFFLINE} is set)"
    else:
        note = "no download URL is registered"
        for primary, companions in groups(spec):
            if primary.url and all(c.url for c in companions):
                try:
                    path = download(primary)
                    return Located(primary, path, {c.filename: download(c) for c in companions})
                except WeightsError as exc:
                    note = str(exc)
                    break
    if mismatches:
        bad = mismatches[0]
        others = f" (and {len(mismatches) - 1} more corrupt copies)" if len(mismatches) > 1 else ""
        raise ChecksumError(f"weights {spec.name!r}: {bad.path} has sha256 {bad.sha256}, expected "
                            f"{bad.source.sha256} for {bad.source.filename}{others}; delete or replace it; "
                            f"{_places(spec, note)}")
    raise WeightsNotFoundError(f"weights {spec.name!r} not found: {_places(spec, note)}")


def resolve(name_or_path: str | Path, *, download: bool = True) -> Path:
    """The local path of a weights file: an existing path as is, else the main file of a registered entry.

    Raises :class:`WeightsNotFoundError` (nothing found, offline, download failed), :class:`ChecksumError` (only
    corrupt copies).
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    try:
        spec = get_spec(str(name_or_path))
    except KeyError:
        raise WeightsNotFoundError(not_found_message(name_or_path)) from None
    return locate(spec, allow_download=download).path


def not_found_message(name_or_path: str | Path) -> str:
    """The message for a name that is neither an existing file nor a registered entry."""
    text = str(name_or_path)
    if Path(text).suffix or "/" in text or "\\" in text:
        return f"no such weights file: {text}"
    known = ", ".join(sorted({s.name for s in list_specs()}))
    return f"unknown weights {text!r}: neither a file nor a registered name (registered: {known})"
