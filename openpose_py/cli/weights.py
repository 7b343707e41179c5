"""``openpose-py weights``: what is registered, where each file is, whether its sha256 matches; fetch and import."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ChecksumError, WeightsNotFoundError

__all__ = ["weights"]

# status -> how `list`/`verify` show it
_STATUS_TEXT = {"ok": "sha256 ok", "mismatch": "SHA256 MISMATCH", "unverified": "no sha256 published",
                "missing": "missing", "converted": "converted, sha256 ok"}


def _spec_or_usage_error(name: str):
    from ..weights import get_spec

    try:
        return get_spec(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0] if exc.args else exc), param_hint="'NAME'") from None


@click.group("weights")
def weights() -> None:
    """List, fetch, import and verify weights files.

    Files are looked for under $OPENPOSE_PY_WEIGHTS_DIR (recursively), among the files shipped with the package
    (the default model) and in the cache ($OPENPOSE_PY_CACHE_DIR, default ~/.cache/openpose_py), which also holds
    converted files.
    """


@weights.command("list")
@click.argument("names", nargs=-1, metavar="[NAME]...")
def list_cmd(names: tuple[str, ...]) -> None:
    """Registered weights: architecture, skeleton, licence, whether they can be used here, where each file is and
    whether its sha256 matches, and where each file is published.

    Each file is 'needed' (the set of files in use, or the only set), 'optional' (another set that could stand in
    for the one in use: its absence is fine) or 'one of' (several sets, none here yet: any one is enough)."""
    from ..weights import cache_dir, find_local, is_present, list_specs, shipped_dir, weights_dir

    specs = [_spec_or_usage_error(n) for n in names] or list_specs()
    root = weights_dir()
    click.echo(f"weights dir: {root if root else '(OPENPOSE_PY_WEIGHTS_DIR not set)'}")
    click.echo(f"shipped:     {shipped_dir() or '(none)'}")
    click.echo(f"cache:       {cache_dir()}")
    for spec in specs:
        aliases = f" (aliases: {', '.join(spec.aliases)})" if spec.aliases else ""
        ready = "ready" if is_present(spec) else "not present (downloaded on first use where a source has a URL)"
        click.echo(f"\n{spec.name}{aliases}: {ready}")
        click.echo(f"  {spec.architecture}, {spec.skeleton.name}, licence: {spec.license}")
        click.echo(f"  {spec.description}")
        files = find_local(spec)
        roles = _roles(spec, files)
        for found in files:
            where = f"{found.path} ({found.location})" if found.path else "not found"
            click.echo(f"  {roles[found.source.filename]:<9} {found.source.filename:<36} "
                       f"{_STATUS_TEXT[found.status]:<20} {where}")
        for source in spec.sources:
            if not source.companion:
                by_hand = "no download URL (optional; obtain by hand)" if roles[source.filename] == "optional" \
                    else "no download URL (obtain by hand)"
                click.echo(f"  source: {source.filename} <- {source.url or by_hand}")
        if spec.published:
            click.echo(f"  published: {spec.published}")


def _roles(spec, files) -> dict[str, str]:
    """Each file's part: ``needed`` (the file set in use, or the only set), ``optional`` (another set that could
    stand in for it), or ``one of`` (several sets, none here yet: any one of them is enough)."""
    from ..weights.store import groups

    usable = {"ok", "unverified", "converted"}
    status = {}
    for found in files:
        status.setdefault(found.source.filename, set()).add(found.status)
    sets = [(primary, *companions) for primary, companions in groups(spec)]

    def complete(members) -> bool:
        return "converted" in status[members[0].filename] or all(status[m.filename] & usable for m in members)

    in_use = next((i for i, members in enumerate(sets) if complete(members)), None)
    roles = {}
    for i, members in enumerate(sets):
        role = "needed" if in_use == i or len(sets) == 1 else "optional" if in_use is not None else "one of"
        roles.update((m.filename, role) for m in members)
    return roles


@weights.command("fetch")
@click.argument("name", metavar="NAME")
@click.option("--no-download", is_flag=True, help="Only look locally; fail instead of downloading.")
def fetch(name: str, no_download: bool) -> None:
    """Find the files of NAME locally or download them into the cache (sha256-checked); print the path."""
    from ..weights import resolve

    spec = _spec_or_usage_error(name)
    click.echo(str(resolve(spec.name, download=not no_download)))


@weights.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--architecture", default=None, metavar="NAME",
              help="Network or weights name the file must fit (default: recognised from its tensors).")
def import_cmd(path: Path, architecture: str | None) -> None:
    """Convert an OpenVINO IR (.xml with its .bin beside it), a state_dict (.pth) or safetensors file into the
    cache, and print where it went. Load it later with --weights PATH or by its registered name."""
    from ..weights import import_weights

    if path.suffix.lower() == ".xml" and not path.with_suffix(".bin").is_file():
        raise WeightsNotFoundError(f"{path}: the IR's weights {path.with_suffix('.bin').name} are not beside it")
    target = import_weights(path, architecture=architecture)
    click.echo(str(target))


@weights.command("verify")
@click.argument("names", nargs=-1, metavar="[NAME]...")
def verify(names: tuple[str, ...]) -> None:
    """Check the sha256 of every local file of NAME (default: all entries); exit 1 on any mismatch, or when a
    named entry has no usable file."""
    from ..weights import find_local, is_present, list_specs

    specs = [_spec_or_usage_error(n) for n in names] or list_specs()
    mismatched: list[str] = []
    absent: list[str] = []
    for spec in specs:
        found = find_local(spec)
        for item in found:
            if item.path is not None:
                click.echo(f"{spec.name}: {item.path}: {_STATUS_TEXT[item.status]}")
            if item.status == "mismatch":
                mismatched.append(f"{item.path} has sha256 {item.sha256}, expected {item.source.sha256}")
        if not is_present(spec):
            click.echo(f"{spec.name}: no local file")
            if names:  # only an entry the user asked about must be present
                absent.append(spec.name)
    if mismatched:
        raise ChecksumError(f"{len(mismatched)} file(s) differ from the registry: " + "; ".join(mismatched))
    if absent:
        raise WeightsNotFoundError(f"no usable local file for {', '.join(absent)} "
                                   f"(see `openpose-py weights list`)")
    click.echo("every file found matches its registered sha256")
