"""The pipelined pose run: :func:`run_pipeline` reads frames in one thread, runs the estimator in the calling thread and
feeds the sinks in a third, with bounded queues between them."""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence


from ..runs.context import STOP_SIGNALS
from .overlap import Overlap, overlap_workers
from .sinks import FrameResult, FrameSink
from .sources import Frame, FrameRange, FrameSource, StreamInfo, VideoSource

if TYPE_CHECKING:
    from ..inference import PoseEstimator
    from .stage import ResultStage

__all__ = ["RunReport", "run_pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunReport:
    """Outcome of :func:`run_pipeline`: frames passed through every sink, people found, wall-clock seconds."""

    frames: int
    people: int
    seconds: float
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


_END = object()


@dataclass
class _Failure:
    error: BaseException


@dataclass
class _Pipeline:
    """State shared by the reader, inference and writer threads of one run."""

    stop: threading.Event
    requested: threading.Event  # the caller's ``stop``: only watched, never set here
    frames_in: queue.Queue = field(default_factory=queue.Queue)
    results: queue.Queue = field(default_factory=queue.Queue)
    # set by each thread as its first and its last act: what a stopped run waits on (a KeyboardInterrupt raised inside
    # Thread.start may come before the thread has an ident, yet it runs)
    reader_began: threading.Event = field(default_factory=threading.Event)
    writer_began: threading.Event = field(default_factory=threading.Event)
    reader_done: threading.Event = field(default_factory=threading.Event)
    writer_done: threading.Event = field(default_factory=threading.Event)
    writer_error: BaseException | None = None
    written: int = 0
    people: int = 0
    signalled: bool = False  # a stop signal came (a plain flag: set from a signal handler, which may not take locks)
    ended: bool = False  # the source gave its last frame
    skipped: bool = False  # frames were taken from the reader but not inferred (the run halted): the input is not done
    launched: list[threading.Thread] = field(default_factory=list)  # appended before start(): see _infer_all

    def halted(self) -> bool:
        """The writer failed, the caller asked to stop, or a stop signal came."""
        return self.stop.is_set() or self.requested.is_set() or self.signalled

    def hand_over(self, result: FrameResult) -> None:
        """Give an inferred frame to the writer, whatever is stopping the run: a frame inferred is a frame written,
        so the outputs never miss a frame before one that was written. It only waits for room, which the writer
        makes until its very end (it drains the queue even after a failure of its own); a writer that never began
        in 5 s takes nothing."""
        waited = 0.0
        while not self.writer_done.is_set():
            try:
                self.results.put(result, timeout=0.1)
                return
            except queue.Full:
                waited = 0.0 if self.writer_began.is_set() else waited + 0.1
                if waited > 5.0:
                    return

    def put(self, q: queue.Queue, item: object) -> bool:
        """Put unless the run is stopping; a full queue is retried so that a stop request is noticed."""
        while not self.stop.is_set() and not self.signalled:
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


class _SignalsAsFlag:
    """While a run lasts in the main thread, a stop signal whose handler raises KeyboardInterrupt (Ctrl-C's default,
    the CLI's for SIGTERM and SIGHUP) sets ``pipe.signalled`` instead. The handler still runs (the CLI's records which
    signal came), but its KeyboardInterrupt is caught inside the handler: raised in the calling code, it could land
    between a lock's acquisition and the ``with`` that releases it (a queue's, an event's), and the run's clean-up then
    waited forever on that lock. Other handlers (the default SIGTERM, ignored signals) are left as they are."""

    def __init__(self, pipe: _Pipeline) -> None:
        self.pipe = pipe
        self.previous: dict[int, Callable] = {}

    def __enter__(self) -> "_SignalsAsFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                handler = signal.getsignal(sig)
                if callable(handler):
                    self.previous[sig] = handler
                    signal.signal(sig, self._flagging(handler))
        return self

    def _flagging(self, handler: Callable) -> Callable:
        def on_signal(signum: int, frame: object) -> None:
            try:
                handler(signum, frame)
            except KeyboardInterrupt:
                self.pipe.signalled = True
        return on_signal

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _thread(name: str, target: Callable[..., None], began: threading.Event, done: threading.Event,
            *args: object) -> threading.Thread:
    """A daemon thread running ``target(*args)`` that sets ``began`` as its first act and ``done`` as its last, however
    it ends."""
    def run() -> None:
        began.set()
        try:
            target(*args)
        finally:
            done.set()

    return threading.Thread(target=run, name=name, daemon=True)


def _reader(source: FrameSource, pipe: _Pipeline, latest_only: bool) -> None:
    try:
        for frame in source:
            if pipe.stop.is_set():
                return
            if latest_only:
                _put_dropping_oldest(pipe.frames_in, frame)
            elif not pipe.put(pipe.frames_in, frame):
                return
    except BaseException as exc:  # handed to the inference thread, which raises it
        pipe.put(pipe.frames_in, _Failure(exc))
        return
    pipe.put(pipe.frames_in, _END)


def _put_dropping_oldest(q: queue.Queue, item: object) -> None:
    """Queue ``item``, discarding the oldest waiting frame when full (only the reader puts, so it cannot starve)."""
    while True:
        try:
            q.put_nowait(item)
            return
        except queue.Full:
            try:
                q.get_nowait()
            except queue.Empty:
                pass


def _writer(sinks: Sequence[FrameSink], info: StreamInfo, pipe: _Pipeline,
            progress: Callable[[FrameResult], None] | None) -> None:
    """Open, feed and close every sink, all from this one thread (GUI windows and codecs want a single thread)."""
    try:
        for sink in sinks:
            sink.open(info)
    except BaseException as exc:
        pipe.writer_error = exc
        pipe.stop.set()
    while True:
        item = pipe.results.get()
        if item is _END:
            break
        if pipe.writer_error is not None:
            continue  # drain so the inference thread never blocks on a full queue
        try:
            for sink in sinks:
                sink.write(item)
            pipe.written += 1
            pipe.people += len(item.people)
            if progress is not None:
                progress(item)
        except BaseException as exc:
            pipe.writer_error = exc
            pipe.stop.set()
    # finished work is kept whatever stopped the run: each sink publishes what it completed (a video is verified)
    for sink in sinks:
        try:
            sink.close(keep=True)
        except BaseException as exc:  # a sink that cannot finish is a failure of the run, reported once
            pipe.writer_error = pipe.writer_error or exc


def _next_batch(pipe: _Pipeline, batch_size: int) -> tuple[list[Frame], bool]:
    """Up to ``batch_size`` frames from the reader, and whether the source has ended; fewer when the run is halted.
    A failure the reader handed over is raised here."""
    batch: list[Frame] = []
    while len(batch) < batch_size:
        try:
            item = pipe.frames_in.get(timeout=0.1)
        except queue.Empty:
            if pipe.halted():
                break
            continue
        if item is _END:
            return batch, True
        if isinstance(item, _Failure):
            raise item.error
        batch.append(item)
    return batch, False


def _infer_all(pipe: _Pipeline, inference: Overlap, threads: Sequence[threading.Thread], batch_size: int) -> None:
    """Start the writer and the reader, then run the estimator on every batch until the source ends or the run is
    halted; the results go to the writer."""
    for thread in threads:
        pipe.launched.append(thread)  # before start(): an interrupt inside it can leave the thread running
        thread.start()
    while not pipe.ended and not pipe.halted():
        batch, pipe.ended = _next_batch(pipe, batch_size)
        if batch and pipe.halted():
            pipe.skipped = True
            break
        for result in inference.submit(batch) if batch else ():
            pipe.hand_over(result)
    for result in inference.drain():
        pipe.hand_over(result)


def _wind_down(pipe: _Pipeline, stage: "ResultStage | None", writer: threading.Thread, reader: threading.Thread,
               owned: FrameSource | None) -> None:
    """However the run ended: what the stage still holds goes to the writer, which closes every sink; the reader is
    waited for; a source the run opened is closed."""
    pipe.stop.set()
    if writer in pipe.launched:
        pipe.writer_began.wait(5.0)
    if pipe.writer_began.is_set():
        # everything already queued is written first; the queue may be full, so this waits for room
        for held in stage.flush() if stage is not None else ():
            pipe.results.put(held)
        pipe.results.put(_END)
        pipe.writer_done.wait()
    if reader in pipe.launched:
        pipe.reader_began.wait(5.0)
    if pipe.reader_began.is_set():
        pipe.reader_done.wait(5.0)
    if owned is not None:
        owned.close()


def run_pipeline(
    estimator: "PoseEstimator",
    source: FrameSource | str | Path | int,
    sinks: Sequence[FrameSink] = (),
    *,
    frames: FrameRange = FrameRange(),
    batch_size: int = 1,
    queue_size: int = 8,
    progress: Callable[[FrameResult], None] | None = None,
    stop: threading.Event | None = None,
    latest_only: bool = False,
    stage: "ResultStage | None" = None,
) -> RunReport:
    """Estimate poses on every frame of ``source`` and hand the results to ``sinks``, in frame order.

    A reader thread decodes frames ahead (at most ``queue_size`` batches waiting), the calling thread runs the
    estimator on batches of ``batch_size`` frames (two at once where that pays, :mod:`.overlap`), and a writer thread
    opens, feeds and closes the sinks. Ctrl-C (KeyboardInterrupt in the calling thread, which the CLI also raises for
    SIGTERM and SIGHUP; while the run lasts, a signal's KeyboardInterrupt is taken as a stop request) or setting
    ``stop`` ends the run cleanly: frames already inferred are written, every sink is closed with its outputs kept,
    and the report says ``interrupted``. Any other error (a truncated video, a full disk) also closes the sinks with
    the frames finished before it kept, then propagates; ``progress`` has by then been called once per kept frame.

    Args:
        estimator: a :class:`~openpose_py.inference.PoseEstimator` (anything with ``predict_batch``, and
            ``detect_batch(images, maps=...)`` when a sink needs candidates or maps).
        source: an open :class:`FrameSource` (not closed here), or a video path / URL / camera index opened with
            ``frames`` (and closed here).
        progress: called from the writer thread after each frame has gone through every sink.
        stop: an event another thread (or a sink, e.g. a window's quit key) sets to end the run early.
        latest_only: for live sources (cameras, streams): when inference falls behind, drop the oldest waiting frames
            so that what is processed stays current. Ignored for files, which are always processed frame by frame.
        stage: a step over each frame's results before the sinks, in frame order (:class:`~.stage.ResultStage`);
            tracking is ``stage=TrackingStage(tracker)`` (:mod:`openpose_py.track.stream`): a ``track_id`` per
            person (smoothed if the tracker is set to), at the frame's time and with its pixels.

    Returns:
        A :class:`RunReport`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    owned = not isinstance(source, FrameSource)
    src = VideoSource(source, frames) if owned else source
    latest_only = latest_only and src.info.live
    if stage is not None:
        stage.open(src.info)
    # a live run keeps a single batch waiting, so the frame inferred next is at most one batch old
    waiting = batch_size if latest_only else queue_size * batch_size
    pipe = _Pipeline(threading.Event(), stop or threading.Event(), queue.Queue(waiting), queue.Queue(queue_size))
    started = time.perf_counter()
    interrupted = False
    failure: BaseException | None = None
    reader = _thread("openpose-reader", _reader, pipe.reader_began, pipe.reader_done, src, pipe, latest_only)
    writer = _thread("openpose-writer", _writer, pipe.writer_began, pipe.writer_done, sinks, src.info, pipe, progress)
    inference = Overlap(estimator, any(s.needs_candidates for s in sinks), any(s.needs_maps for s in sinks),
                        overlap_workers(estimator, latest_only), stage)
    with _SignalsAsFlag(pipe):
        try:
            _infer_all(pipe, inference, (writer, reader), batch_size)
            interrupted = (not pipe.ended or pipe.skipped) and pipe.halted()
        except KeyboardInterrupt:  # raised by code in this thread (the estimator, say): signals only set the flag
            interrupted = True
            log.info("interrupted; closing outputs")
        except BaseException as exc:
            failure = exc
        finally:
            for result in inference.close():  # batches in flight when an error came: their finished frames
                pipe.hand_over(result)
            # a stop signal (Ctrl-C, SIGTERM) while the outputs are finished cannot cut that short (it only sets the
            # flag); it makes the run interrupted only if input was left
            signalled = pipe.signalled
            _wind_down(pipe, stage, writer, reader, src if owned else None)
            interrupted = interrupted or (pipe.signalled and not signalled and (not pipe.ended or pipe.skipped))
    failure = failure if failure is not None else pipe.writer_error
    if failure is not None:
        raise failure
    report = RunReport(pipe.written, pipe.people, time.perf_counter() - started, interrupted)
    log.info("%d frames, %d people, %.1f frames/s%s", report.frames, report.people, report.fps,
             " (interrupted)" if interrupted else "")
    return report
