"""`corroscope analyze PATH... --out DIR`: the batch pipeline on the command line, with a progress bar."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from app import console
from app.analyze_args import CLI_EXPORTS
from app.cli_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    load_model,
    provider_line,
    resume_advice,
    say_no_photos,
)
from app.core.batch_inputs import not_photos_line
from app.core.engines import Engine, check_scheduler_address, import_distributed, make_engine
from app.core.errors import CorroscopeError, ExportError, OutputLockedError
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceOptions
from app.core.left_out import left_out_line
from app.core.outlock import held_elsewhere
from app.core.physical import format_area
from app.core.pipeline import (
    DEFAULT_EXPORTS,
    DONE,
    BatchOptions,
    BatchSummary,
    PhotoOutcome,
    check_out_dir,
    run_batch,
    select_inputs,
)
from app.core.record import PhotoRecord
from app.core.report_header import ReportHeader
from app.core.text import REASON_LIMIT, counted, safe_message, safe_path, safe_text

# The Dask scheduler went away mid-batch: the photos it had not returned are "not analysed" in results.csv
# and the same command resumes. Not 1 (photos failed): a script can tell "run it again" from "look at these".
EXIT_ENGINE_LOST = 3
# Another run holds --out's lock: nothing was written; not 1 (photos failed): wait, or choose another --out.
EXIT_LOCKED = 4
ON_THE_CLUSTER = (
    "on the cluster's workers; each picks CUDA or CPU itself (the provider of each photo is in its record)"
)


class ProgressBar:
    """A one-line bar redrawn with `\\r` on a terminal; one line per photo otherwise (logs, CI)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.tty = stream.isatty()
        self.start = time.perf_counter()
        self._drawn = False

    def started(self, index: int, total: int, path: Path) -> None:
        if self.tty:
            self._draw(index - 1, safe_path(path.name))

    def finished(self, outcome: PhotoOutcome) -> None:
        if self.tty:
            self._draw(outcome.index + 1, safe_path(outcome.path.name))
        else:
            line = f"[{outcome.index + 1}/{self.total}] {safe_path(outcome.path)}: {outcome.state}"
            print(line, file=self.stream, flush=True)

    def _draw(self, done: int, name: str) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        frac = done / self.total if self.total else 1.0
        bar_w = 24
        filled = int(bar_w * frac)
        elapsed = time.perf_counter() - self.start
        text = (
            f"[{'#' * filled}{'.' * (bar_w - filled)}] {done}/{self.total} {frac:4.0%} {elapsed:5.0f}s {name}"
        )
        self.stream.write("\r" + text[: width - 1].ljust(width - 1))
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self.tty and self._drawn:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()


def result_line(path: Path, record: Mapping[str, Any] | None) -> str:
    rec = record if isinstance(record, PhotoRecord) else PhotoRecord(record or {})
    k = rec.key_figures()
    name = safe_path(path)  # a photo's name may hold escape sequences
    if k.corroded_share is None:
        return f"{name}: no asset in view"
    review = "  NEEDS REVIEW" if k.needs_review else ""
    grades = f"ASTM D610 {k.astm_d610}, ISO 4628-3 {k.iso_4628_3}"
    spread = ""
    if k.share_range is not None:
        spread = f" ({k.range_label} {k.share_range[0]:.2f}-{k.share_range[1]:.2f} %)"
    size = "" if k.corrosion_area_mm2 is None else f", {format_area(k.corrosion_area_mm2)}"
    source = {"reviewed": " (reviewed mask)", "edited": " (edited mask, not signed)"}.get(
        k.figures_source, ""
    )
    share = f"corroded {k.corroded_share:.2f} % of the asset{source}{spread}{size}"
    return f"{name}: {share}, {grades}{review}"


def batch_options(args: argparse.Namespace, model_path: Path) -> BatchOptions:
    """`BatchOptions` from the parsed arguments; `ValueError` says which one is wrong."""
    inference = InferenceOptions(mode=args.mode, tile_scale=args.tile_scale, tile_overlap=args.tile_overlap)
    policy = ReviewPolicy(margin=args.review_margin, min_confidence=args.min_confidence)
    exports = CLI_EXPORTS if not getattr(args, "overlay_png", False) else DEFAULT_EXPORTS
    exports = (*exports, "pdf") if args.pdf else exports
    return BatchOptions(
        inference=inference,
        policy=policy,
        exports=exports,
        overwrite=args.overwrite,
        resume=not args.no_resume,
        model_path=model_path,
        device=args.device,
        mm_per_px=args.mm_per_px,
        input_folders=tuple(p for p in args.paths if p.is_dir()),
        reviewed_masks=args.reviewed_masks,
        report_header=report_header(args),
    )


def report_header(args: argparse.Namespace) -> ReportHeader | None:
    """The header the options typed, None when none was."""
    names = [name for name, _label in ReportHeader.LABELS]
    header = ReportHeader(**{name: getattr(args, name, "") or "" for name in names})
    return None if header.empty else header


class _Console:
    """What Ctrl+C (or SIGTERM, SIGHUP) means now: before the batch, stop at once; during it, stop after
    the photo, and a second one stops at once."""

    # After a first Ctrl+C stopped the batch, a second one this soon still means "at once" (exit 130),
    # even when the photo then under way ended sooner: two presses give the same result every time.
    DOUBLE_PRESS_S = 0.3

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.batch_running = False
        self.bar: ProgressBar | None = None
        self.first_at = 0.0

    def first_interrupt(self, signum: int = signal.SIGINT) -> None:
        if not self.batch_running:
            raise KeyboardInterrupt
        self.first_at = time.monotonic()
        self.stop.set()
        if self.bar is not None:
            self.bar.clear()
        how = "Ctrl+C again" if signum == signal.SIGINT else f"{signal.Signals(signum).name} received; again"
        print(f"Stopping after this photo ({how} to stop at once) ...", file=sys.stderr)


def analyze(args: argparse.Namespace) -> int:
    """`corroscope analyze`; the console may fail or close at any time without changing the work done."""
    with console.guarded_streams():
        state = _Console()
        with console.Interrupts(state.first_interrupt) as interrupts:
            try:
                rc = _analyze(args, state, interrupts)
            except KeyboardInterrupt:  # before the batch (model loading, folder listing)
                rc = None
            except Exception:
                # A Ctrl+C inside a C extension (importing ONNX Runtime, say) can come back as another
                # error ("ImportError: initialization failed"): once pressed, it is an interrupt.
                if not interrupts.count:
                    raise
                rc = None
            interrupts.settle()
            if rc is None or (interrupts.count and not state.batch_running):
                print("Interrupted.", file=sys.stderr)
                rc = EXIT_INTERRUPTED
        return EXIT_INTERRUPTED if interrupts.count >= 2 else rc


def _analyze(args: argparse.Namespace, state: _Console, interrupts: console.Interrupts) -> int:
    try:
        batch_options(args, Path("."))  # bad values are refused before the (slow) model load
        engine = choose_engine(args)
    except (ValueError, CorroscopeError) as exc:  # a contradiction, or Dask asked for and not installed
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    missing = [p for p in args.paths if not os.path.lexists(p)]  # a typo, before any slow work
    if missing and len(missing) == len(args.paths):
        print(f"error: not found: {_names(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.reviewed_masks is not None and not args.reviewed_masks.is_dir():
        print(f"error: --reviewed-masks {args.reviewed_masks} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_out_dir(args.out)  # a file in the way is the user's to change, not a failed photo
    except ExportError as exc:
        print(f"error: --out: {safe_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if (held := held_elsewhere(args.out)) is not None:  # said before the model loads, not after
        print(f"error: {safe_message(held)}", file=sys.stderr)
        return EXIT_LOCKED
    model = load_model(args.model, args.device, "analyze", threads=engine.model_threads)
    if model is None:
        return EXIT_USAGE
    options = batch_options(args, model.path)
    if args.pdf and not _pdf_ready():
        return EXIT_USAGE
    inputs = select_inputs(args.paths, args.out, args.recursive)
    paths = list(inputs.photos)
    if not paths:
        say_no_photos(args.paths, args.recursive)
        return EXIT_USAGE
    out = args.out
    if getattr(args, "scheduler", None):  # workers elsewhere: a relative path would be theirs, not ours
        paths, out = [p.absolute() for p in paths], out.absolute()
    if getattr(args, "scheduler", None):
        # This machine only plans: what it would run on says nothing of the cluster's workers.
        print(f"Model: {model.identity} {ON_THE_CLUSTER}", file=sys.stderr)
    else:
        print(provider_line(model, args.device), file=sys.stderr)
    print(model.accuracy_line, file=sys.stderr)
    print(f"Running {engine.describe()}", file=sys.stderr)
    if missing:  # each fails in the table, with the reason
        print(f"Not found: {_names(missing)}", file=sys.stderr)
    if (skipped := left_out_line(args.paths, recursive=args.recursive)) is not None:
        print(skipped, file=sys.stderr)
    if (not_photos := not_photos_line(inputs)) is not None:
        print(not_photos, file=sys.stderr)
    return _run(model, paths, out, options, state, interrupts, engine)


def _names(paths: list[Path]) -> str:
    """Paths named on the command line, for one line."""
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    return ", ".join(safe_path(p) for p in paths[:5]) + more


def _pdf_ready() -> bool:
    """Whether the PDF report can be written here (it is then registered with core's exporters); says
    why not. This CLI is a composition root: core never imports the report itself."""
    try:
        import app.report

        app.report.register_exporter()
    except ImportError as exc:
        print(f"error: --pdf needs the report module, which cannot load here: {exc}", file=sys.stderr)
        return False
    from app.report.canvas import ensure_gui_app

    ensure_gui_app()  # Qt's application object belongs to the main thread; photo threads only paint
    return True


def choose_engine(args: argparse.Namespace) -> Engine:
    """The engine the arguments ask for; `ValueError` for a contradiction, `CorroscopeError` when Dask
    is asked for and not installed (with how to install it)."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    name = getattr(args, "engine", None)
    if workers is not None and scheduler is not None:
        raise ValueError(
            "give --workers (a cluster on this machine) or --scheduler (an existing one), not both"
        )
    if workers is not None or scheduler is not None:
        if name not in (None, "dask"):
            raise ValueError(f"--workers and --scheduler run on Dask; they do not go with --engine {name}")
        if workers is not None and workers < 1:
            raise ValueError(f"--workers must be at least 1, got {workers}")
        if scheduler is not None:
            try:
                check_scheduler_address(scheduler)
            except ValueError as exc:
                raise ValueError(f"--scheduler {exc}") from None
        import_distributed()
        return make_engine("dask", workers=workers, address=scheduler)
    if name == "dask":
        raise ValueError("--engine dask needs --workers N or --scheduler tcp://HOST:PORT")
    return make_engine(name or "pipelined")


def _run(
    model,
    paths: list[Path],
    out: Path,
    options: BatchOptions,
    state: _Console,
    interrupts: console.Interrupts,
    engine: Engine | None = None,
) -> int:
    bar = state.bar = ProgressBar(len(paths), sys.stderr)
    again = resume_advice(options.overwrite, options.resume)

    def on_progress(outcome: PhotoOutcome) -> None:
        if outcome.state == DONE:
            bar.clear()
            print(result_line(outcome.path, outcome.record), flush=True)
        bar.finished(outcome)

    state.batch_running = True
    try:
        summary = run_batch(
            model,
            paths,
            out,
            options,
            progress=on_progress,
            started=bar.started,
            cancelled=state.stop.is_set,
            engine=engine,
            keep_records=False,
        )
        while state.stop.is_set() and (left := state.first_at + state.DOUBLE_PRESS_S - time.monotonic()) > 0:
            time.sleep(left)
    except KeyboardInterrupt:
        bar.clear()
        print(f"Interrupted. Finished photos are complete; {again}.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CorroscopeError as exc:
        bar.clear()
        print(f"error: {safe_text(exc, REASON_LIMIT)}", file=sys.stderr)
        return EXIT_LOCKED if isinstance(exc, OutputLockedError) else EXIT_FAILED
    finally:
        interrupts.settle()
    bar.clear()
    return _report(summary, again)


def _report(summary: BatchSummary, again: str | None = None) -> int:
    again = again or resume_advice(overwrite=False, resume=True)
    parts = [f"{len(summary.done)} analysed"]
    if summary.skipped:
        parts.append(f"{len(summary.skipped)} skipped (outputs already complete)")
    parts.append(f"{len(summary.failures)} failed")
    if (left := summary.total - len(summary.outcomes)) > 0:  # a stop (Ctrl+C, SIGTERM, full disk) before them
        parts.append(f"{left} not analysed")  # the window's and results.csv's word for them
    noun = "photo" if summary.total == 1 else "photos"
    print(f"{summary.total} {noun}: {', '.join(parts)}, in {summary.seconds:.1f} s.")
    if summary.changed:  # never skipped as complete: their records described other files
        n = len(summary.changed)
        print(f"{counted(n, 'photo')} changed since the last results, analysed again:")
        for path in summary.changed:
            print(f"  {safe_path(path)}")
    if summary.header_changed:  # never skipped as complete: their PDFs and rows named another asset
        n = len(summary.header_changed)
        print(
            f"{counted(n, 'photo')} analysed again: header changed (asset ID, location, client, inspector "
            "or inspection date not those of the last results):"
        )
        for path in summary.header_changed:
            print(f"  {safe_path(path)}")
    if summary.csv_path is not None:
        print(f"Results: {safe_path(summary.csv_path)}")
    if summary.removed:
        names = ", ".join(safe_text(p.name) for p in summary.removed[:5])
        more = ", …" if len(summary.removed) > 5 else ""
        print(
            f"Removed {counted(len(summary.removed), 'earlier output')} that this run does not write "
            f"again (they would contradict the new results): {names}{more}"
        )
    error = None if summary.csv_error is None else safe_text(summary.csv_error, REASON_LIMIT)
    if error and summary.csv_path is None:
        print(f"error: the CSV could not be written: {error}", file=sys.stderr)
    elif error:  # its run record (results.json) could not be
        print(f"error: {error}", file=sys.stderr)
    if summary.engine_lost is not None:
        print(
            f"error: {safe_text(summary.engine_lost, REASON_LIMIT)}; {again}",
            file=sys.stderr,
        )
    elif summary.disk_full:
        print(
            f"error: the disk of --out is full: stopped after {counted(len(summary.outcomes), 'photo')}; "
            f"free space and {again}",
            file=sys.stderr,
        )
    elif summary.cancelled:
        print(f"Stopped before the end; {again}.", file=sys.stderr)
    if summary.failures:
        n = len(summary.failures)
        print(f"{counted(n, 'photo')} failed:", file=sys.stderr)
        for f in summary.failures:
            print(f"  {safe_path(f.path)}: {safe_text(f.reason, REASON_LIMIT)}", file=sys.stderr)
    if summary.engine_lost is not None:  # whatever else: what to do next is to run it again
        return EXIT_ENGINE_LOST
    return EXIT_OK if summary.ok and not summary.csv_error else EXIT_FAILED
