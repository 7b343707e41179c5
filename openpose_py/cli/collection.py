"""What ``image`` and ``video`` share when they run over a collection of inputs, alone or as one process of a
``torchrun`` launch: the input list (``@list.txt``, ``--inputs-from``), ``--skip-existing``, ``--failures``,
``--summary-json``, a progress display that suits a terminal or a log, and the final summary (gathered on rank 0)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from ..runs import FailureLog, RunContext, RunSummary
    from .options import EstimatorOptions

__all__ = ["run_options", "read_inputs", "list_files", "Progress", "finish", "stopped", "rank_estimator_options"]

_RUN_OPTIONS = (
    click.option("--inputs-from", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="A text file listing inputs, one per line (as does an argument @FILE); blank lines and "
                      "lines starting with # are ignored."),
    click.option("--skip-existing", is_flag=True,
                 help="Leave out inputs whose outputs are all there already (to resume a stopped run)."),
    click.option("--failures", "failures_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Append a JSON line {input, rank, reason} here for each input that fails; the run goes on "
                      "and exits with status 1 at the end."),
    click.option("--summary-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write the final summary (per process and in total) as JSON here (by rank 0)."),
)


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: ``--inputs-from --skip-existing --failures --summary-json``."""
    for option in reversed(_RUN_OPTIONS):
        func = option(func)
    return func


def _read_list(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read the input list {path}: {getattr(exc, 'strerror', None) or exc}",
                                 param_hint="'@FILE'") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def read_inputs(args: tuple[str, ...], inputs_from: Path | None) -> list[str]:
    """The command line's inputs with each ``@FILE`` argument and ``--inputs-from FILE`` replaced by its lines."""
    inputs: list[str] = []
    for arg in args:
        inputs += _read_list(Path(arg[1:])) if arg.startswith("@") and len(arg) > 1 else [arg]
    if inputs_from is not None:
        inputs += _read_list(inputs_from)
    if not inputs:
        raise click.UsageError("no inputs: give paths, @LIST or --inputs-from LIST")
    return inputs


def list_files(args: tuple[str, ...], inputs_from: Path | None) -> list[Path]:
    """The input lists a command line names (``@FILE`` arguments and ``--inputs-from``): inputs that no output may
    replace."""
    return [Path(arg[1:]) for arg in args if arg.startswith("@") and len(arg) > 1] + \
        ([inputs_from] if inputs_from is not None else [])


def rank_estimator_options(opts: "EstimatorOptions", ctx: "RunContext") -> "EstimatorOptions":
    """This process's device (its own GPU under torchrun) and CPU threads (the cores divided among the processes)."""
    return replace(opts, device=ctx.device(opts.device), threads=ctx.threads(opts.threads))


class Progress:
    """A progress bar on a terminal; elsewhere (a log file, Slurm output) a plain line every ``every`` seconds.

    In a run of several processes each shows its own share, labelled with its rank.
    """

    def __init__(self, total: int | None, unit: str, ctx: "RunContext", *, enabled: bool = True,
                 every: float = 5.0) -> None:
        self.unit = unit
        self.total = total
        self.label = f"rank {ctx.rank}/{ctx.world_size}" if ctx.distributed else ""
        self.count = 0
        self.every = every
        self.started = self.last = time.monotonic()
        self.bar = None
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=self.label or None, position=ctx.local_rank,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int = 1) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            rate = self.count / (now - self.started)
            of = f"/{self.total}" if self.total is not None else ""
            prefix = f"{self.label}: " if self.label else ""
            click.echo(f"{prefix}{self.count}{of} {self.unit}s, {rate:.2f} {self.unit}s/s", err=True)

    def write(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            click.echo(message, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def finish(ctx: "RunContext", summary: "RunSummary", failures: "FailureLog", summary_json: Path | None) -> int:
    """Gather every process's summary on rank 0, which prints it (and writes ``summary_json``); the exit status
    of this process: 1 if any of its inputs failed, else 0. Every rank must call it (inside the process group)."""
    from ..atomic import write_bytes_atomic
    from ..runs import gather_to_root, summary_lines

    summaries = gather_to_root(summary, ctx)
    if summaries is not None:
        for line in summary_lines(summaries, failures.path):
            click.echo(line, err=True)
        if summary_json is not None:
            doc = {"world_size": ctx.world_size, "processes": [s.as_dict() for s in summaries],
                   "done": sum(s.done for s in summaries), "skipped": sum(s.skipped for s in summaries),
                   "failed": sum(s.failed for s in summaries), "people": sum(s.people for s in summaries),
                   "seconds": round(max(s.seconds for s in summaries), 3)}
            write_bytes_atomic(summary_json, (json.dumps(doc, indent=1) + "\n").encode("ascii"))
    return 1 if len(failures) else 0


def stopped(ctx: "RunContext", summary: "RunSummary") -> None:
    """A run stopped by a signal: this process's own summary only (the others may be gone, so no collective)."""
    from ..runs import summary_lines

    prefix = f"rank {ctx.rank}: " if ctx.distributed else ""
    for line in summary_lines([summary]):
        click.echo(prefix + line, err=True)

