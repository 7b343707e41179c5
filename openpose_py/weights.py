"""Weights registry, resolution and loading.

A :class:`WeightsSpec` bundles a network's architecture, skeleton, pre-processing, licence and the files it can be
built from (:class:`WeightsSource`, each with sha256, size and URL).

Resolution of a registered name (:func:`resolve`), first hit wins:

1. an explicit existing path (``resolve("/some/file.xml")``);
2. files found recursively, by file name, under ``$OPENPOSE_PY_WEIGHTS_DIR``, sha256-checked;
3. the user cache ``$OPENPOSE_PY_CACHE_DIR`` (default ``~/.cache/openpose_py``), sha256-checked;
4. a download into the cache (progress bar, sha256 check, atomic write), unless ``download=False`` or
   ``$OPENPOSE_PY_OFFLINE`` is set.

A file with the wrong sha256 is passed over only when another candidate is good; otherwise it raises
:class:`ChecksumError`. Nothing found raises one :class:`WeightsNotFoundError` naming every place looked at and where
the file is published.

Foreign formats (OpenVINO IR, IR-named state_dicts, Caffe models) are converted once into the cache as
``<cache>/converted/<source sha256>.safetensors`` (module keys, spec in the metadata); later loads read that file.
:func:`load_model` turns a registry name or a file into ``(nn.Module in eval mode, WeightsSpec)``; :func:`save_weights`
writes a safetensors file carrying its spec (key :data:`SPEC_METADATA_KEY`) that :func:`load_model` reads back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import itertools
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping

from .atomic import atomic_path, publish_file
from .errors import ArchitectureMismatchError, ChecksumError, OpenPoseError, WeightsError, WeightsNotFoundError
from .preprocess import PreprocessSpec
from .skeleton import COCO_18, Skeleton, get_skeleton

__all__ = [
    "WeightsSource", "WeightsSpec", "register_weights", "get_spec", "list_specs",
    "ENV_WEIGHTS_DIR", "ENV_CACHE_DIR", "ENV_OFFLINE", "SPEC_METADATA_KEY",
    "weights_dir", "cache_dir", "is_offline", "sha256_file", "LocalFile", "find_local", "converted_path",
    "resolve", "download", "read_weights", "load_model", "save_weights", "import_weights",
    "spec_to_json", "spec_from_json", "register_reader", "register_key_adapter",
]

log = logging.getLogger(__name__)

ENV_WEIGHTS_DIR = "OPENPOSE_PY_WEIGHTS_DIR"
ENV_CACHE_DIR = "OPENPOSE_PY_CACHE_DIR"
ENV_OFFLINE = "OPENPOSE_PY_OFFLINE"
#: safetensors metadata key holding the JSON description of the weights (see :func:`spec_to_json`).
SPEC_METADATA_KEY = "openpose_py.spec"


@dataclass(frozen=True, slots=True)
class WeightsSource:
    """One file a weights entry can be built from.

    ``format`` says how to read it: ``"state_dict"`` (torch, weights_only), ``"safetensors"``, ``"openvino_ir"``
    (an ``.xml`` whose ``.bin`` sits beside it, listed as a companion source), ``"caffemodel"``.
    A companion source belongs to the nearest non-companion source listed before it. ``sha256 == ""`` means no hash
    is published: such a file is used, with a warning that it cannot be verified.
    """

    filename: str
    sha256: str
    size: int | None = None
    url: str | None = None
    format: str = "state_dict"
    companion: bool = False  # a file needed beside another source (an IR's .bin), not loadable on its own


@dataclass(frozen=True, slots=True)
class WeightsSpec:
    """A registered set of pretrained weights and everything needed to use them."""

    name: str
    architecture: str  # name in openpose_py.models
    skeleton: Skeleton
    preprocess: PreprocessSpec
    license: str
    description: str
    sources: tuple[WeightsSource, ...] = ()
    arch_kwargs: tuple[tuple[str, Any], ...] = ()  # builder keyword arguments (frozen as pairs)
    aliases: tuple[str, ...] = ()
    published: str = ""  # where a person obtains the file by hand (page or download script)
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def builder_kwargs(self) -> dict[str, Any]:
        return dict(self.arch_kwargs)


_REGISTRY: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec) -> WeightsSpec:
    """Add an entry (and its aliases) to the registry."""
    for key in (spec.name, *spec.aliases):
        if key in _REGISTRY:
            raise ValueError(f"weights name {key!r} registered twice")
        _REGISTRY[key] = spec
    return spec


def get_spec(name: str) -> WeightsSpec:
    """The registry entry called ``name`` (or one of its aliases)."""
    if name not in _REGISTRY:
        known = ", ".join(sorted({s.name for s in _REGISTRY.values()}))
        raise KeyError(f"unknown weights {name!r}; registered: {known}")
    return _REGISTRY[name]


def list_specs() -> list[WeightsSpec]:
    """All registered entries, each once."""
    seen: dict[str, WeightsSpec] = {}
    for spec in _REGISTRY.values():
        seen.setdefault(spec.name, spec)
    return list(seen.values())


# ---- places ------------------------------------------------------------------------------------------------------

def weights_dir() -> Path | None:
    """The directory named by ``$OPENPOSE_PY_WEIGHTS_DIR``, or None when unset."""
    value = os.environ.get(ENV_WEIGHTS_DIR, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache: ``$OPENPOSE_PY_CACHE_DIR`` or ``~/.cache/openpose_py`` (not created here)."""
    value = os.environ.get(ENV_CACHE_DIR, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "openpose_py"


def is_offline() -> bool:
    """True when ``$OPENPOSE_PY_OFFLINE`` is set to anything but empty/0/false/no."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def converted_path(sha256: str) -> Path:
    """Where the conversion of a source file with this sha256 is cached."""
    return cache_dir() / "converted" / f"{sha256}.safetensors"


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


# ---- finding files -------------------------------------------------------------------------------------------------

Status = Literal["ok", "mismatch", "unverified", "missing"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A local candidate for one source: where it is (None when missing), its sha256 status and actual hash.

    ``location`` is ``"weights dir"`` or ``"cache"``.
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


def _candidates(source: WeightsSource) -> Iterator[LocalFile]:
    root = weights_dir()
    if root is not None and root.is_dir():
        for path in sorted(root.rglob(source.filename)):
            if path.is_file():
                yield _check(source, path, "weights dir")
    cached = cache_dir() / source.filename
    if cached.is_file():
        yield _check(source, cached, "cache")


def find_local(spec: WeightsSpec | str) -> list[LocalFile]:
    """Every local candidate of every source of ``spec`` (a spec or registered name), hashed.

    A source without any candidate appears once with ``status="missing"`` and ``path=None``.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    out: list[LocalFile] = []
    for source in spec.sources:
        found = list(_candidates(source))
        out += found or [LocalFile(source, None, "missing")]
    return out


def _groups(spec: WeightsSpec) -> list[tuple[WeightsSource, tuple[WeightsSource, ...]]]:
    """Primary sources with the companions listed after each."""
    groups: list[tuple[WeightsSource, list[WeightsSource]]] = []
    for source in spec.sources:
        if source.companion:
            if not groups:
                raise ValueError(f"weights {spec.name!r}: companion {source.filename} listed before any primary file")
            groups[-1][1].append(source)
        else:
            groups.append((source, []))
    return [(primary, tuple(companions)) for primary, companions in groups]


@dataclass(frozen=True, slots=True)
class _Located:
    source: WeightsSource
    path: Path
    companions: dict[str, Path]  # companion filename -> path


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
        if found.path.resolve() in seen:
            continue
        seen.add(found.path.resolve())
        if _accept(found):
            return found.path
        mismatches.append(found)
    return None


def _locate_local(spec: WeightsSpec, mismatches: list[LocalFile]) -> _Located | None:
    for primary, companions in _groups(spec):
        path = _find_good(primary, mismatches)
        if path is None:
            continue
        found = {c.filename: _find_good(c, mismatches, beside=path.parent) for c in companions}
        if all(p is not None for p in found.values()):
            return _Located(primary, path, found)  # type: ignore[arg-type]
        log.info("%s found at %s but its companion file(s) %s are not", primary.filename, path,
                 ", ".join(n for n, p in found.items() if p is None))
    return None


def _places(spec: WeightsSpec, allow_download: bool) -> str:
    names = " / ".join(
        primary.filename + (f" (+ {', '.join(c.filename for c in comps)})" if comps else "")
        for primary, comps in _groups(spec)
    )
    root = weights_dir()
    where = [f"${ENV_WEIGHTS_DIR}={root} (recursively)" if root else f"${ENV_WEIGHTS_DIR} (not set)",
             f"the cache {cache_dir()}"]
    if not allow_download:
        why = f"${ENV_OFFLINE} is set" if is_offline() else "download=False"
        where.append(f"no download ({why})")
    urls = [s.url for s in spec.sources if s.url and not s.companion]
    published = urls[0] if urls else spec.published or "no public URL registered"
    if spec.published and urls:
        published += f" (see {spec.published})"
    return (f"looked for {names} in {', '.join(where)}; published at {published}; put the file(s) under "
            f"${ENV_WEIGHTS_DIR} or the cache")


def _locate(spec: WeightsSpec, *, allow_download: bool = True) -> _Located:
    mismatches: list[LocalFile] = []
    located = _locate_local(spec, mismatches)
    if located is not None:
        for bad in mismatches:
            log.warning("ignoring %s: sha256 %s, expected %s", bad.path, bad.sha256, bad.source.sha256)
        return located
    if mismatches:
        bad = mismatches[0]
        raise ChecksumError(f"{bad.path} has sha256 {bad.sha256}, expected {bad.source.sha256} for "
                            f"{bad.source.filename} (weights {spec.name!r}); delete or replace it")
    allow = allow_download and not is_offline()
    if allow:
        for primary, companions in _groups(spec):
            if primary.url and all(c.url for c in companions):
                path = download(primary)
                return _Located(primary, path, {c.filename: download(c) for c in companions})
    raise WeightsNotFoundError(f"weights {spec.name!r} not found: {_places(spec, allow)}")


def resolve(name_or_path: str | Path, *, download: bool = True) -> Path:
    """The local path of a weights file: an existing path as is, else the main file of a registered entry.

    Raises :class:`WeightsNotFoundError` (nothing found, offline), :class:`ChecksumError` (only a corrupt copy).
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    try:
        spec = get_spec(str(name_or_path))
    except KeyError:
        raise WeightsNotFoundError(_not_found_message(name_or_path)) from None
    return _locate(spec, allow_download=download).path


def _not_found_message(name_or_path: str | Path) -> str:
    text = str(name_or_path)
    if Path(text).suffix or os.sep in text or "/" in text:
        return f"no such weights file: {text}"
    known = ", ".join(sorted({s.name for s in list_specs()}))
    return f"unknown weights {text!r}: neither a file nor a registered name (registered: {known})"


# ---- download ------------------------------------------------------------------------------------------------------

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


# ---- reading files -------------------------------------------------------------------------------------------------

#: format -> (file suffixes, reader(path, companions) -> (tensors, metadata))
Reader = Callable[[Path, Mapping[str, Path]], tuple[dict[str, Any], dict[str, str]]]
_READERS: dict[str, tuple[tuple[str, ...], Reader]] = {}
#: functions recognising a foreign key layout: (tensors, source) -> (renamed tensors, spec name) or None
KeyAdapter = Callable[[Mapping[str, Any], str], tuple[dict[str, Any], str] | None]
_KEY_ADAPTERS: list[KeyAdapter] = []


def register_reader(fmt: str, suffixes: tuple[str, ...], reader: Reader) -> None:
    """Teach :func:`read_weights` a file format (``suffixes`` like ``(".caffemodel",)``, lower case)."""
    _READERS[fmt] = (suffixes, reader)


def register_key_adapter(adapter: KeyAdapter) -> None:
    """Teach :func:`read_weights` a foreign key layout (e.g. Caffe layer names) to rename into module keys.

    The adapter returns None when it does not recognise the keys, else (renamed tensors, registered spec name).
    """
    _KEY_ADAPTERS.append(adapter)


def _read_safetensors(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    return tensors, metadata


def _read_torch(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    import pickle
    import zipfile

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: not a loadable state_dict (weights_only): {first}") from None
    # training checkpoints wrap the weights: {"state_dict": ..., "optimizer": ...}
    for key in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: holds no state_dict (a mapping of names to tensors)")
    tensors = dict(obj)
    if tensors and all(k.startswith("module.") for k in tensors):  # saved from DataParallel / DDP
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors, {}


def _read_ir(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    from .importers.openvino_ir import read_ir

    bins = [p for p in companions.values() if p.suffix.lower() == ".bin"]
    return read_ir(path, bins[0] if bins else None).tensors, {}


register_reader("safetensors", (".safetensors",), _read_safetensors)
register_reader("state_dict", (".pth", ".pt", ".ckpt"), _read_torch)
register_reader("openvino_ir", (".xml",), _read_ir)


def _hpe0001_ir_names(tensors: Mapping[str, Any], source: str) -> tuple[dict[str, Any], str] | None:
    if "conv1.weight" not in tensors or "conv4_3_CPM/al/WithoutBiases.weight" not in tensors:
        return None
    from .importers.openvino_ir import hpe0001_state_dict_from_ir_names

    return hpe0001_state_dict_from_ir_names(dict(tensors), source), "lightweight"


register_key_adapter(_hpe0001_ir_names)


def _format_of(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        return fmt
    suffix = path.suffix.lower()
    for name, (suffixes, _) in _READERS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for suffixes, _ in _READERS.values() for s in suffixes)
    raise WeightsError(f"{path}: unknown weights format {suffix or '(no suffix)'!r}; known: {known}")


def read_weights(path: str | Path, *, fmt: str | None = None, companions: Mapping[str, Path] | None = None,
                 architecture: str | None = None) -> tuple[dict[str, Any], WeightsSpec]:
    """Read any supported weights file into (state_dict with module keys, its WeightsSpec).

    The spec comes from the file's ``openpose_py.spec`` metadata, else from a recognised foreign key layout, else
    from matching tensor names and shapes against the registered entries (restricted to ``architecture``: a network
    or weights name). Raises :class:`ArchitectureMismatchError` when nothing fits.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"no such weights file: {path}")
    fmt = _format_of(path, fmt)
    if fmt not in _READERS:
        raise WeightsError(f"{path}: no reader for format {fmt!r} (its importer is not installed)")
    tensors, metadata = _READERS[fmt][1](path, companions or {})
    if SPEC_METADATA_KEY in metadata:
        spec = spec_from_json(metadata[SPEC_METADATA_KEY], source=str(path))
        _check_fits(tensors, spec, str(path))
        if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
            raise ArchitectureMismatchError(f"{path}: expected {architecture}, file holds {spec.name} "
                                            f"({spec.architecture})")
        return tensors, spec
    for adapter in _KEY_ADAPTERS:
        adapted = adapter(tensors, str(path))
        if adapted is not None:
            tensors, spec_name = adapted
            spec = get_spec(spec_name)
            if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
                raise ArchitectureMismatchError(f"{path}: expected {architecture}, found the tensors of "
                                                f"{spec.name} ({spec.architecture})")
            return tensors, spec
    return tensors, _infer_spec(tensors, architecture, str(path))


# ---- matching tensors to networks ----------------------------------------------------------------------------------

_SHAPES: dict[tuple, dict[str, tuple[int, ...]]] = {}


def _build(spec: WeightsSpec):
    from .models import create

    return create(spec.architecture, skeleton=spec.skeleton, **spec.builder_kwargs)


def _expected_shapes(spec: WeightsSpec) -> dict[str, tuple[int, ...]]:
    key = (spec.architecture, spec.skeleton.name, repr(sorted(spec.arch_kwargs)))
    if key not in _SHAPES:
        import torch

        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = _build(spec)
        _SHAPES[key] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return _SHAPES[key]


def _differences(tensors: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]]) -> tuple[list, list, list]:
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    shapes = [f"{k} {tuple(tensors[k].shape)} vs {expected[k]}" for k in expected
              if k in tensors and tuple(tensors[k].shape) != expected[k]]
    return missing, unexpected, shapes


def _describe(missing: list, unexpected: list, shapes: list) -> str:
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:2])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:2])})")
    if shapes:
        parts.append(f"{len(shapes)} of other shape (e.g. {'; '.join(shapes[:2])})")
    return ", ".join(parts)


def _check_fits(tensors: Mapping[str, Any], spec: WeightsSpec, source: str) -> None:
    expected = _expected_shapes(spec)
    missing, unexpected, shapes = _differences(tensors, expected)
    if missing or unexpected or shapes:
        raise ArchitectureMismatchError(
            f"{source}: expected the {len(expected)} tensors of {spec.name} ({spec.architecture}, "
            f"{spec.skeleton.name}), found {len(tensors)}: {_describe(missing, unexpected, shapes)}")


def _infer_spec(tensors: Mapping[str, Any], architecture: str | None, source: str) -> WeightsSpec:
    candidates = [s for s in list_specs()
                  if architecture is None or architecture in (s.architecture, s.name, *s.aliases)]
    if not candidates:
        raise ArchitectureMismatchError(f"{source}: no registered weights of architecture {architecture!r}")
    best: tuple[int, WeightsSpec, tuple] | None = None
    for spec in candidates:
        try:
            expected = _expected_shapes(spec)
        except (KeyError, ImportError) as exc:  # a network whose module is not available here
            log.debug("cannot build %s: %s", spec.name, exc)
            continue
        diff = _differences(tensors, expected)
        errors = sum(len(d) for d in diff)
        if errors == 0:
            return spec
        if best is None or errors < best[0]:
            best = (errors, spec, diff)
    if best is None:
        raise ArchitectureMismatchError(f"{source}: no network could be built to compare against")
    _, spec, diff = best
    wanted = f"expected {architecture}" if architecture else "fits no registered network"
    raise ArchitectureMismatchError(f"{source}: {wanted}; closest is {spec.name} ({spec.architecture}) with "
                                    f"{_describe(*diff)}")


def _load_strict(model, tensors: Mapping[str, Any], spec: WeightsSpec, source: str) -> None:
    missing, unexpected, shapes = _differences(tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()})
    if missing or unexpected or shapes:
        raise ArchitectureMismatchError(f"{source}: does not fit {spec.name} ({spec.architecture}): "
                                        f"{_describe(missing, unexpected, shapes)}")
    model.load_state_dict(tensors, strict=True)


# ---- spec metadata -------------------------------------------------------------------------------------------------

def spec_to_json(spec: WeightsSpec) -> str:
    """JSON description of a spec for a weights file: name, architecture, arch kwargs, skeleton, preprocess..."""
    kwargs = spec.builder_kwargs
    try:
        body = {
            "name": spec.name, "architecture": spec.architecture, "arch_kwargs": kwargs,
            "skeleton": spec.skeleton.name, "preprocess": dataclasses.asdict(spec.preprocess),
            "license": spec.license, "description": spec.description, "published": spec.published,
        }
        return json.dumps(body, sort_keys=True)
    except TypeError as exc:
        raise ValueError(f"weights spec {spec.name!r} cannot be stored as JSON: {exc}") from None


def spec_from_json(text: str, *, source: str = "metadata") -> WeightsSpec:
    """Inverse of :func:`spec_to_json`; a registered entry's sources are kept when the name is registered."""
    try:
        body = json.loads(text)
        skeleton = get_skeleton(body["skeleton"])
        preprocess = PreprocessSpec(**body.get("preprocess", {}))
        name, architecture = str(body["name"]), str(body["architecture"])
        kwargs = dict(body.get("arch_kwargs", {}))
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{source}: invalid {SPEC_METADATA_KEY} metadata ({exc})") from None
    registered = _REGISTRY.get(name)
    return WeightsSpec(
        name=name, architecture=architecture, skeleton=skeleton, preprocess=preprocess,
        license=str(body.get("license", "")), description=str(body.get("description", "")),
        sources=registered.sources if registered else (), arch_kwargs=tuple(sorted(kwargs.items())),
        published=str(body.get("published", "")),
    )


# ---- loading -------------------------------------------------------------------------------------------------------

def _read_converted(path: Path) -> tuple[dict[str, Any], WeightsSpec] | None:
    try:
        return read_weights(path, fmt="safetensors")
    except OpenPoseError as exc:
        log.warning("ignoring unusable converted cache file %s: %s", path, exc)
        return None


def _write_safetensors(path: Path, tensors: Mapping[str, Any], metadata: Mapping[str, str]) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".part") as tmp:
        # clone: safetensors refuses tensors sharing storage; contiguous CPU copies are what it writes anyway
        save_file({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}, str(tmp),
                  metadata=dict(metadata))
    return path


def _cache_conversion(sha256: str, tensors: Mapping[str, Any], spec: WeightsSpec) -> None:
    target = converted_path(sha256)
    try:
        _write_safetensors(target, tensors, {SPEC_METADATA_KEY: spec_to_json(spec)})
        log.info("cached converted weights at %s", target)
    except OSError as exc:  # a read-only cache must not stop inference
        log.warning("could not cache converted weights at %s: %s", target, exc)


def _registered_state_dict(spec: WeightsSpec) -> dict[str, Any]:
    for primary, _ in _groups(spec):
        if primary.sha256 and converted_path(primary.sha256).is_file():
            converted = _read_converted(converted_path(primary.sha256))
            if converted is not None:
                return converted[0]
    located = _locate(spec)
    key = located.source.sha256 or sha256_file(located.path)  # unpublished hash: key by the local copy's
    if located.source.format != "safetensors" and converted_path(key).is_file():
        converted = _read_converted(converted_path(key))
        if converted is not None:
            return converted[0]
    tensors, _ = read_weights(located.path, fmt=located.source.format, companions=located.companions,
                              architecture=spec.name)
    if located.source.format != "safetensors":
        _cache_conversion(key, tensors, spec)
    return tensors


def load_model(name_or_path: str | Path, *, device: str = "cpu", architecture: str | None = None):
    """Build a network with pretrained weights: ``(nn.Module in eval mode on device, WeightsSpec)``.

    ``name_or_path`` is a registered name (resolved as described in this module's docstring) or a file:
    ``.safetensors`` (with spec metadata, or matched by tensor names/shapes), ``.pth``/``.pt`` (weights_only),
    ``.xml`` (OpenVINO IR, ``.bin`` beside it), or any format an importer registered (``.caffemodel``).
    ``architecture`` (a network or weights name) says what a bare file must be. Weights that do not fit raise
    :class:`ArchitectureMismatchError`.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        tensors, spec = read_weights(path, architecture=architecture)
        source = str(path)
    else:
        try:
            spec = get_spec(str(name_or_path))
        except KeyError:
            raise WeightsNotFoundError(_not_found_message(name_or_path)) from None
        if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
            raise ArchitectureMismatchError(f"weights {spec.name!r} are {spec.architecture}, not {architecture}")
        tensors, source = _registered_state_dict(spec), spec.name
    model = _build(spec)
    _load_strict(model, tensors, spec, source)
    model.eval()
    return model.to(device), spec


def save_weights(path: str | Path, model, spec: WeightsSpec, *, metadata: Mapping[str, str] | None = None) -> Path:
    """Write ``model``'s state_dict as safetensors with ``spec`` in its metadata (atomically); returns the path.

    ``metadata`` adds string entries (e.g. the training iteration). Wrapped models (DDP, ``torch.compile``) are
    unwrapped. :func:`load_model` reads the file back with the same architecture, skeleton and pre-processing.
    """
    inner = getattr(model, "_orig_mod", model)
    inner = getattr(inner, "module", inner)
    model_skeleton = getattr(inner, "skeleton", None)
    if model_skeleton is not None and model_skeleton != spec.skeleton:
        raise ValueError(f"model skeleton {model_skeleton.name} differs from the spec's {spec.skeleton.name}")
    entries = {**(metadata or {}), SPEC_METADATA_KEY: spec_to_json(spec)}
    return _write_safetensors(Path(path), inner.state_dict(), entries)


def import_weights(path: str | Path, *, architecture: str | None = None) -> Path:
    """Convert a weights file (IR, state_dict, ...) into the cache in safetensors form; returns the cached path.

    The cached file is keyed by the source's sha256, so a registered entry built from the same file finds it.
    """
    path = Path(path).expanduser()
    companions = {}
    if path.suffix.lower() == ".xml":
        companions = {path.with_suffix(".bin").name: path.with_suffix(".bin")}
    tensors, spec = read_weights(path, companions=companions, architecture=architecture)
    target = converted_path(sha256_file(path))
    try:
        return _write_safetensors(target, tensors, {SPEC_METADATA_KEY: spec_to_json(spec)})
    except OSError as exc:
        raise WeightsError(f"cannot write {target}: {exc.strerror or exc}") from None


# ---- registered entries --------------------------------------------------------------------------------------------

_OMZ_FP16_INT8 = ("https://storage.openvinotoolkit.org/repositories/open_model_zoo/2022.1/models_bin/3/"
                  "human-pose-estimation-0001/FP16-INT8/")

register_weights(WeightsSpec(
    name="lightweight",
    architecture="lightweight",
    skeleton=COCO_18,
    # the IR normalises (pixel - 128) / 255 internally; the PyTorch network expects it done beforehand
    preprocess=PreprocessSpec(mean=128.0, std=255.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                              pad="center", interpolation="cubic"),
    license="Apache-2.0",
    description="Lightweight OpenPose (MobileNetV1, CPM, 1 refinement stage), Intel Open Model Zoo "
                "human-pose-estimation-0001, COCO-18; 42.8 AP on a COCO val subset (OMZ model page)",
    sources=(
        WeightsSource("human-pose-estimation-0001.xml",
                      "2ea05c99126a7536622828586837dcde962a12dc8b427c0a847876ce9b2f2506", 437873,
                      _OMZ_FP16_INT8 + "human-pose-estimation-0001.xml", "openvino_ir"),
        WeightsSource("human-pose-estimation-0001.bin",
                      "47ae11b12bf8ce8c27f20cf902c9b665aae25a44513787d36a9a755fccdd2a47", 4170174,
                      _OMZ_FP16_INT8 + "human-pose-estimation-0001.bin", "openvino_ir", companion=True),
        WeightsSource("hpe0001_float32_ir_names.pth",
                      "a931b8c3b9954124a13b64943fde8648bc6d15462871bbd4de6fbca065761270", 16435033, None,
                      "state_dict"),
    ),
    arch_kwargs=(("num_refinement_stages", 1), ("variant", "hpe-0001")),
    aliases=("hpe-0001", "lightweight-coco18"),
    published="https://github.com/openvinotoolkit/open_model_zoo/tree/master/models/intel/human-pose-estimation-0001",
))

register_weights(WeightsSpec(
    name="lightweight-370k",
    architecture="lightweight",
    skeleton=COCO_18,
    # the original evaluation code: (pixel - 128) / 256, centred padding with normalised 0, cubic resize
    preprocess=PreprocessSpec(mean=128.0, std=256.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                              pad="center", interpolation="cubic"),
    license="Apache-2.0",
    description="Lightweight OpenPose original PyTorch checkpoint (checkpoint_iter_370000.pth, 1 refinement "
                "stage), COCO-18; 40.0 AP on COCO val2017 (paper)",
    sources=(
        # no sha256 is published for this file: it loads with a warning that it cannot be verified
        WeightsSource("checkpoint_iter_370000.pth", "", None,
                      "https://download.01.org/opencv/openvino_training_extensions/models/human_pose_estimation/"
                      "checkpoint_iter_370000.pth", "state_dict"),
    ),
    arch_kwargs=(("num_refinement_stages", 1), ("variant", "original")),
    aliases=("lightweight-original",),
    published="https://github.com/Daniil-Osokin/lightweight-human-pose-estimation.pytorch",
))


# =====================================================================================================================
# CMU VGG-19 networks (engineer B inserts the cmu-* entries below this line)
# =====================================================================================================================

def _read_caffemodel(path: Path, companions: Mapping[str, Path]) -> tuple[dict[str, Any], dict[str, str]]:
    from .importers.caffemodel import load_caffemodel

    # the CMU networks name their modules after the Caffe layers, so the importer's keys are already module keys
    return load_caffemodel(path)[0], {}


register_reader("caffemodel", (".caffemodel",), _read_caffemodel)

_CMU_MODELS = "http://vcl.snu.ac.kr/OpenPose/models/pose/"
_CMU_PUBLISHED = "https://github.com/CMU-Perceptual-Computing-Lab/openpose (models/getModels.sh)"
_CMU_LICENSE = "CMU OpenPose academic or non-profit non-commercial research licence"
# the CVPR'17 demo and the C++ OpenPose: x / 256 - 0.5 on BGR, height 368, bottom/right padding with 128
_CMU_PREPROCESS = PreprocessSpec(mean=128.0, std=256.0, channel_order="BGR", height=368, stride=8, pad_value=128.0,
                                 pad="bottom_right", interpolation="cubic")

register_weights(WeightsSpec(
    name="cmu-coco",
    architecture="cmu-coco",
    skeleton=COCO_18,
    preprocess=_CMU_PREPROCESS,
    license=_CMU_LICENSE,
    description="CMU OpenPose COCO-18 (VGG-19, 6 stages x 2 branches, CVPR 2017), pose_iter_440000, 52.31 M "
                "parameters; 61.8 AP on COCO test-dev with multi-scale testing (paper)",
    sources=(
        # the widely used PyTorch conversion: a state_dict keyed by the Caffe layer names
        WeightsSource("body_pose_model.pth", "25a948c16078b0f08e236bda51a385d855ef4c153598947c28c0d47ed94bb746",
                      209267595, None, "state_dict"),
        WeightsSource("pose_iter_440000.caffemodel",
                      "b4cf475576abd7b15d5316f1ee65eb492b5c9f5865e70a2e7882ed31fb682549", 209274056,
                      _CMU_MODELS + "coco/pose_iter_440000.caffemodel", "caffemodel"),
    ),
    aliases=("cmu-coco18", "openpose-coco"),
    published=_CMU_PUBLISHED,
))

register_weights(WeightsSpec(
    name="cmu-body25",
    architecture="cmu-body25",
    skeleton=get_skeleton("BODY_25"),
    preprocess=_CMU_PREPROCESS,
    license=_CMU_LICENSE,
    description="CMU OpenPose BODY_25 (VGG-19 front end, 4 PAF + 2 heatmap stages, PReLU; TPAMI 2019), "
                "pose_iter_584000, 26.17 M parameters",
    sources=(
        WeightsSource("pose_iter_584000.caffemodel",
                      "44e3d7ebd8c8b62d4366d67127f1b562611a9e8fd0f4f3cdeeb4bb4a6ed12be6", 104715850,
                      _CMU_MODELS + "body_25/pose_iter_584000.caffemodel", "caffemodel"),
    ),
    aliases=("openpose-body25",),
    published=_CMU_PUBLISHED,
))

register_weights(WeightsSpec(
    name="cmu-mpi",
    architecture="cmu-mpi",
    skeleton=get_skeleton("MPI_15"),
    preprocess=_CMU_PREPROCESS,
    license=_CMU_LICENSE,
    description="CMU OpenPose MPI-15 (the COCO design with 16 heatmaps and 28 PAFs), pose_iter_160000, "
                "51.48 M parameters",
    sources=(
        # no sha256 is published (OpenCV's download_models.py lists sha1 a344f4da6b52892e44a0ca8a4c68ee605fc611cf):
        # the file loads with a warning that it cannot be verified
        WeightsSource("pose_iter_160000.caffemodel", "", None, _CMU_MODELS + "mpi/pose_iter_160000.caffemodel",
                      "caffemodel"),
    ),
    aliases=("openpose-mpi",),
    published=_CMU_PUBLISHED,
))
