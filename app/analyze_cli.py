"""`corroscope analyze PATH... --out DIR`: the batch pipeline on the command line, with a progress bar."""

from __future__ import annotations

import argparse
import importlib
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from app.cli_common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, load_model, provider_line
from app.core import exporters
from app.core.engines import ENGINES, Engine, import_distributed, make_engine
from app.core.errors import CorroscopeError
from app.core.grading import ReviewPolicy
from app.core.inference import InferenceMode, InferenceOptions
from app.core.photos import find_images
from app.core.pipeline import DEFAULT_EXPORTS, DONE, BatchOptions, BatchSummary, PhotoOutcome, run_batch

_INFERENCE, _POLICY = InferenceOptions(), ReviewPolicy()
# The overlay as a JPEG (the pipeline's default kinds keep the PNG, which the GUI's exports use).
CLI_EXPORTS = tuple(exporters.OVERLAY_JPEG_KIND if k == "overlay" else k for k in DEFAULT_EXPORTS)


def add_analyze_args(an: argparse.ArgumentParser) -> None:
    """The options of `analyze`; defaults come from the dataclasses they fill."""
    an.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos and/or folders of photos")
    an.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    an.add_argument("--mode", choices=[m.value for m in InferenceMode], default=_INFERENCE.mode.value)
    an.add_argument(
        "--tile-scale", type=float, default=_INFERENCE.tile_scale, help="tiles mode: scale the photo first"
    )
    an.add_argument(
        "--tile-overlap", type=float, default=_INFERENCE.tile_overlap, help="tiles mode: overlap fraction"
    )
    an.add_argument(
        "--review-margin",
        type=float,
        default=_POLICY.margin,
        metavar="F",
        help=f"needs review within this relative margin of a grade cut-off (default {_POLICY.margin})",
    )
    an.add_argument(
        "--min-confidence",
        type=float,
        default=_POLICY.min_confidence,
        metavar="P",
        help=f"needs review below this mean model confidence (default {_POLICY.min_confidence})",
    )
    an.add_argument("--overwrite", action="store_true", help="redo every photo and replace its outputs")
    an.add_argument("--no-resume", action="store_true", help="do not skip photos whose outputs exist")
    an.add_argument("--recursive", action="store_true", help="look into sub-folders too")
    an.add_argument("--pdf", action="store_true", help="also write a PDF report per photo")
    an.add_argument(
        "--overlay-png",
        action="store_true",
        help="write the overlay as a full-size lossless PNG (default: a full-size JPEG, quality "
        f"{exporters.OVERLAY_JPEG_QUALITY}, about 10x faster to write; the mask is always a lossless PNG)",
    )
    run = an.add_argument_group("how photos are run")
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="serial: one photo at a time; pipelined (default): a few photos at once in this process, "
        "one's decoding overlapping another's inference and writing; dask: see --workers/--scheduler",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on a Dask cluster of N worker processes started on this machine (needs the "
        "'cluster' extra: pip install .[cluster])",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on the existing Dask cluster at this scheduler address; photos, model and --out must "
        "be at the same paths on every worker (docs/cluster.md)",
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
            self._draw(index - 1, path.name)

    def finished(self, outcome: PhotoOutcome) -> None:
        if self.tty:
            self._draw(outcome.index + 1, outcome.path.name)
        else:
            line = f"[{outcome.index + 1}/{self.total}] {outcome.path}: {outcome.state}"
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


def result_line(path: Path, record: dict[str, Any] | None) -> str:
    rec = record or {}
    share = rec.get("corroded_share")
    if share is None:
        return f"{path}: no asset in view"
    astm, iso = rec["astm_d610"], rec["iso_4628_3"]
    review = "  NEEDS REVIEW" if rec.get("needs_review") else ""
    grades = f"ASTM D610 {astm['label']}, ISO 4628-3 {iso['label']}"
    return f"{path}: corroded {share:.2f} % of the asset, {grades}{review}"


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
    )


def analyze(args: argparse.Namespace) -> int:
    try:
        batch_options(args, Path("."))  # bad values are refused before the (slow) model load
        engine = choose_engine(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CorroscopeError as exc:  # Dask asked for but not installed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    model = load_model(args.model, args.device, "analyze", threads=engine.model_threads)
    if model is None:
        return EXIT_USAGE
    options = batch_options(args, model.path)
    if args.pdf:
        try:
            # The module itself, not just the registry: an exporter registered earlier in this process
            # says nothing about whether the report can load (and make its Qt application) now.
            importlib.import_module("app.report")
            exporters.get("pdf")
        except (CorroscopeError, ImportError) as exc:
            print(f"error: --pdf needs the report module, which cannot load here: {exc}", file=sys.stderr)
            return EXIT_USAGE
        from app.report.pdf import ensure_gui_app

        ensure_gui_app()  # Qt's application object belongs to the main thread; photo threads only paint
    named = {p for p in args.paths if p.is_file()}
    paths = [
        p
        for p in find_images(args.paths, recursive=args.recursive)
        if p in named or not exporters.is_output_file(p, args.out)
    ]
    if not paths:
        print(f"error: no photos found in {', '.join(map(str, args.paths))}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out
    if getattr(args, "scheduler", None):  # workers elsewhere: a relative path would be theirs, not ours
        paths, out = [p.absolute() for p in paths], out.absolute()
    print(provider_line(model, args.device), file=sys.stderr)
    print(f"Running {engine.describe()}", file=sys.stderr)
    return _run(model, paths, out, options, engine)


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
        import_distributed()
        return make_engine("dask", workers=workers, address=scheduler)
    if name == "dask":
        raise ValueError("--engine dask needs --workers N or --scheduler tcp://HOST:PORT")
    return make_engine(name or "pipelined")


def _run(model, paths: list[Path], out: Path, options: BatchOptions, engine: Engine | None = None) -> int:
    bar = ProgressBar(len(paths), sys.stderr)
    stop = threading.Event()

    def on_progress(outcome: PhotoOutcome) -> None:
        if outcome.state == DONE:
            bar.clear()
            print(result_line(outcome.path, dict(outcome.record or {})), flush=True)
        bar.finished(outcome)

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        bar.clear()
        print("Stopping after this photo (Ctrl+C again to stop at once) ...", file=sys.stderr)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
    try:
        summary = run_batch(
            model,
            paths,
            out,
            options,
            progress=on_progress,
            started=bar.started,
            cancelled=stop.is_set,
            engine=engine,
        )
    except KeyboardInterrupt:
        bar.clear()
        print("Interrupted. Finished photos are complete; run the same command to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CorroscopeError as exc:
        bar.clear()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    bar.clear()
    return _report(summary)


def _report(summary: BatchSummary) -> int:
    parts = [f"{len(summary.done)} analysed"]
    if summary.skipped:
        parts.append(f"{len(summary.skipped)} skipped (outputs already complete)")
    parts.append(f"{len(summary.failures)} failed")
    print(f"{summary.total} photos: {', '.join(parts)}, in {summary.seconds:.1f} s.")
    if summary.csv_path is not None:
        print(f"Results: {summary.csv_path}")
    if summary.csv_error:
        print(f"error: the CSV could not be written: {summary.csv_error}", file=sys.stderr)
    if summary.cancelled:
        print("Stopped before the end; run the same command again to resume.", file=sys.stderr)
    if summary.failures:
        n = len(summary.failures)
        print(f"{n} photo{'s' if n > 1 else ''} failed:", file=sys.stderr)
        for f in summary.failures:
            print(f"  {f.path}: {f.reason}", file=sys.stderr)
    return EXIT_OK if summary.ok and not summary.csv_error else EXIT_FAILED
