"""Reading any weights file into a network: :func:`read_weights` (tensors + spec), :func:`load_model` (a registered
name or a file -> network in eval mode), :func:`save_weights` and :func:`import_weights` (safetensors with the spec
in its metadata).

Foreign formats (OpenVINO IR, IR-named state_dicts, Caffe models) are converted once into the cache as
``<cache>/converted/<source sha256>.safetensors`` with a recorded sha256 (:mod:`.places`); later loads read that file
when it still matches its record, and convert again otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from ..errors import ArchitectureMismatchError, OpenPoseError, OutputError, WeightsError, WeightsNotFoundError
from .formats import format_of, key_adapters, reader_for
from .formats.safetensors_file import write_safetensors
from .places import converted_path, record_converted, sha256_file, verified_converted
from .registry import get_spec
from .shapes import build, check_fits, infer_spec, load_strict
from .metadata import SPEC_METADATA_KEY, spec_from_json, spec_to_json
from .spec import WeightsSpec
from .store import groups, locate, not_found_message

__all__ = ["read_weights", "load_model", "save_weights", "import_weights"]

log = logging.getLogger(__name__)


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
    tensors, metadata = reader_for(format_of(path, fmt))(path, companions or {})
    if SPEC_METADATA_KEY in metadata:
        spec = spec_from_json(metadata[SPEC_METADATA_KEY], source=str(path))
        check_fits(tensors, spec, str(path))
        if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
            raise ArchitectureMismatchError(f"{path}: expected {architecture}, file holds {spec.name} "
                                            f"({spec.architecture})")
        return tensors, spec
    for adapter in key_adapters():
        adapted = adapter(tensors, str(path))
        if adapted is not None:
            tensors, spec_name = adapted
            spec = get_spec(spec_name)
            if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
                raise ArchitectureMismatchError(f"{path}: expected {architecture}, found the tensors of "
                                                f"{spec.name} ({spec.architecture})")
            return tensors, spec
    return tensors, infer_spec(tensors, architecture, str(path))


# ---- matching tensors to networks ----------------------------------------------------------------------------------

_SHAPES: dict[tuple, dict[str, tuple[int, ...]]] = {}


def _read_converted(path: Path) -> tuple[dict[str, Any], WeightsSpec] | None:
    try:
        return read_weights(path, fmt="safetensors")
    except OpenPoseError as exc:
        log.warning("ignoring unusable converted cache file %s: %s", path, exc)
        return None


def _cache_conversion(sha256: str, tensors: Mapping[str, Any], spec: WeightsSpec) -> None:
    target = converted_path(sha256)
    try:
        write_safetensors(target, tensors, {SPEC_METADATA_KEY: spec_to_json(spec)})
        record_converted(target)
        log.info("cached converted weights at %s", target)
    except (OSError, OutputError) as exc:  # a read-only or full cache must not stop inference
        log.warning("could not cache converted weights at %s: %s", target, exc)


def _registered_state_dict(spec: WeightsSpec) -> dict[str, Any]:
    checked = set()  # each cached conversion is looked at once (a corrupt one is reported once)
    for primary, _ in groups(spec):
        cached = verified_converted(primary.sha256) if primary.sha256 else None
        checked.add(primary.sha256)
        if cached is not None:
            converted = _read_converted(cached)
            if converted is not None:
                return converted[0]
    located = locate(spec)
    key = located.source.sha256 or sha256_file(located.path)  # unpublished hash: key by the local copy's
    cached = verified_converted(key) if located.source.format != "safetensors" and key not in checked else None
    if cached is not None:
        converted = _read_converted(cached)
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
            raise WeightsNotFoundError(not_found_message(name_or_path)) from None
        if architecture is not None and architecture not in (spec.architecture, spec.name, *spec.aliases):
            raise ArchitectureMismatchError(f"weights {spec.name!r} are {spec.architecture}, not {architecture}")
        tensors, source = _registered_state_dict(spec), spec.name
    model = build(spec)
    load_strict(model, tensors, spec, source)
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
    return write_safetensors(Path(path), inner.state_dict(), entries)


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
        write_safetensors(target, tensors, {SPEC_METADATA_KEY: spec_to_json(spec)})
        record_converted(target)
        return target
    except OutputError as exc:
        raise WeightsError(str(exc)) from None
    except OSError as exc:
        raise WeightsError(f"cannot write {target}: {exc.strerror or exc}") from None

