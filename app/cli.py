"""The `corroscope` command: `gui` (default), `analyze PATH... --out DIR`, `selftest`, `--version`.

Qt and the PDF report are imported only when asked for, so `analyze` and `selftest` run headless.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

import app
from app.core.batch import DONE, BatchProgress, BatchSummary, run_batch
from app.core.errors import CorroscopeError
from app.core.export import is_output_file
from app.core.imageio import find_images, read_image
from app.core.inference import InferenceMode, InferenceOptions, segment
from app.core.model import DEVICES, SegmentationModel, default_model_path
from app.core.paths import models_dir, samples_dir
from app.core.stats import area_stats
from app.core.text import safe_path, safe_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SUBCOMMANDS = ("gui", "analyze", "selftest")


def no_model_message(command: str) -> str:
    return (
        f"No model to load: none is bundled in {models_dir()} yet (the trained default model will be "
        f"shipped there as models/*.onnx), and none was passed.\n"
        f"Pass an ONNX model that follows the Corroscope contract with --model FILE, e.g.\n"
        f"  corroscope {command} --model path/to/model.onnx"
        + (" photo.jpg --out results" if command == "analyze" else "")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corroscope",
        description="Segment corrosion on photos of pipes. Without a command, the desktop app starts.",
    )
    parser.add_argument("--version", action="version", version=f"corroscope {app.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{gui,analyze,selftest}")
    sub.add_parser("gui", help="start the desktop app (default); its options: corroscope gui --help")

    an = sub.add_parser("analyze", help="analyse photos or folders headless; writes mask, overlay, JSON, CSV")
    an.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos and/or folders of photos")
    an.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    _model_args(an)
    an.add_argument("--mode", choices=[m.value for m in InferenceMode], default=InferenceMode.RESIZE.value)
    an.add_argument("--tile-scale", type=float, default=1.0, help="tiles mode: scale the photo first")
    an.add_argument("--tile-overlap", type=float, default=0.25, help="tiles mode: overlap fraction")
    an.add_argument("--overwrite", action="store_true", help="redo every photo and replace its outputs")
    an.add_argument("--no-resume", action="store_true", help="do not skip photos whose outputs exist")
    an.add_argument("--recursive", action="store_true", help="look into sub-folders too")
    an.add_argument("--pdf", action="store_true", help="also write a PDF report per photo")

    st = sub.add_parser("selftest", help="load the model, run a sample photo, print provider and timing")
    _model_args(st)
    st.add_argument("--mode", choices=[m.value for m in InferenceMode], default=InferenceMode.RESIZE.value)
    return parser


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, metavar="FILE", help="ONNX model (default: the bundled one)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA if it works, else CPU")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "gui":
        return run_gui(argv[1:])
    if argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version"):
        return run_gui(argv)  # `corroscope photo.jpg`, `corroscope --model m.onnx`
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "analyze":
            return analyze(args)
        return selftest(args)
    except KeyboardInterrupt:  # Ctrl+C before the batch (model loading, folder listing): no traceback
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def run_gui(argv: list[str]) -> int:
    display_vars = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    wants_help = any(a in ("-h", "--help") for a in argv)
    if (
        sys.platform.startswith("linux")
        and not wants_help
        and not any(os.environ.get(k) for k in display_vars)
    ):
        print(
            "The desktop app needs a display, and none is set (DISPLAY / WAYLAND_DISPLAY).\n"
            "Check the model and this machine with `corroscope selftest`, or analyse photos headless with "
            "`corroscope analyze PHOTO... --out DIR`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        from app.ui.main import main as gui_main
    except ImportError as exc:
        print(
            f"The desktop app cannot start here: {exc}.\n"
            "Check the model and this machine with `corroscope selftest`, or analyse photos headless with "
            "`corroscope analyze PHOTO... --out DIR`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return int(gui_main(argv))


def _load_model(path: Path | None, device: str, command: str) -> SegmentationModel | None:
    path = path or default_model_path(device)
    if path is None:
        print(no_model_message(command), file=sys.stderr)
        return None
    try:
        return SegmentationModel.load(path, device=device)
    except CorroscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _provider_line(model: SegmentationModel, device: str) -> str:
    line = f"Model: {model.describe()}"
    if model.cuda_note and device != "cpu":
        line += f" ({model.cuda_note})"
    return line


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

    def finished(self, event: BatchProgress) -> None:
        if self.tty:
            self._draw(event.index, event.path.name)
        else:
            print(f"[{event.index}/{self.total}] {event.path}: {event.state}", file=self.stream, flush=True)

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


class _PdfOutput:
    suffix = ".pdf"

    def __init__(self, write_pdf_report, model: SegmentationModel) -> None:
        self._write, self._model = write_pdf_report, model

    def write(self, path, result, overlay_rgb, photo_rgb, overwrite) -> None:
        self._write(path, result, overlay_rgb, photo_rgb, self._model, overwrite=overwrite)


def _result_line(event: BatchProgress) -> str:
    rec = event.record or {}
    share = rec.get("corroded_share")
    if share is None:
        return f"{event.path}: no asset in view"
    astm, iso = rec["astm_d610"], rec["iso_4628_3"]
    review = "  NEEDS REVIEW" if rec.get("needs_review") else ""
    grades = f"ASTM D610 {astm['label']}, ISO 4628-3 {iso['label']}"
    return f"{event.path}: corroded {share:.2f} % of the asset, {grades}{review}"


def analyze(args: argparse.Namespace) -> int:
    try:
        options = InferenceOptions(mode=args.mode, tile_scale=args.tile_scale, tile_overlap=args.tile_overlap)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    extras = []
    model = _load_model(args.model, args.device, "analyze")
    if model is None:
        return EXIT_USAGE
    if args.pdf:
        try:
            from app.report import write_pdf_report
        except ImportError as exc:
            print(f"error: --pdf needs the report module, which cannot load here: {exc}", file=sys.stderr)
            return EXIT_USAGE
        extras.append(_PdfOutput(write_pdf_report, model))
    named = {p for p in args.paths if p.is_file()}
    paths = [
        p
        for p in find_images(args.paths, recursive=args.recursive)
        if p in named or not is_output_file(p, args.out)
    ]
    if not paths:
        print(f"error: no photos found in {', '.join(map(str, args.paths))}", file=sys.stderr)
        return EXIT_USAGE
    print(_provider_line(model, args.device), file=sys.stderr)

    bar = ProgressBar(len(paths), sys.stderr)
    stop = threading.Event()

    def on_progress(event: BatchProgress) -> None:
        if event.state == DONE:
            bar.clear()
            print(_result_line(event), flush=True)
        bar.finished(event)

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        bar.clear()
        print("Stopping after this photo (Ctrl+C again to stop at once) ...", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        summary = run_batch(
            model,
            paths,
            args.out,
            options,
            progress=on_progress,
            started=bar.started,
            cancelled=stop.is_set,
            overwrite=args.overwrite,
            resume=not args.no_resume,
            extra_outputs=extras,
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


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


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


def _sample_photo() -> tuple[str, np.ndarray]:
    photos = find_images([samples_dir()]) if samples_dir().is_dir() else []
    if photos:
        return str(photos[0]), read_image(photos[0])
    from app.core.synthetic import synthetic_pipe

    return "a synthetic pipe rendered in memory (no sample photo found)", synthetic_pipe(
        seed=1, size=(480, 640)
    )[0]


def selftest(args: argparse.Namespace) -> int:
    import onnxruntime as ort

    print(f"corroscope {app.__version__}, Python {platform.python_version()}, onnxruntime {ort.__version__}")
    print(f"ONNX Runtime offers: {', '.join(ort.get_available_providers())}")
    t0 = time.perf_counter()
    model = _load_model(args.model, args.device, "selftest")
    if model is None:
        print("SELFTEST FAILED: no model loaded", file=sys.stderr)
        return EXIT_FAILED
    load_s = time.perf_counter() - t0
    print(f"Model:     {safe_path(model.path)}")
    print(f"SHA-256:   {model.sha256}")
    print(
        f"Classes:   {safe_text(', '.join(c.name for c in model.classes))}; "
        f"input size {model.input_size[0]}x{model.input_size[1]}"
    )
    print(f"Provider:  {model.device} ({', '.join(model.providers)}), loaded in {load_s:.2f} s")
    if model.cuda_note:
        print(f"           {model.cuda_note}")
    try:
        name, rgb = _sample_photo()
        options = InferenceOptions(mode=args.mode)
        first = segment(model, rgb, options)
        second = segment(model, rgb, options)
    except CorroscopeError as exc:
        print(f"SELFTEST FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    problems = []
    if first.labels.shape != rgb.shape[:2] or int(first.labels.max()) >= model.num_classes:
        problems.append("labels have the wrong size or class ids out of range")
    if not np.array_equal(first.labels, second.labels):
        problems.append("two runs on the same photo disagree")
    stats = area_stats(second.labels, model.classes)
    print(f"Sample:    {safe_path(name)} ({rgb.shape[1]}x{rgb.shape[0]}), mode {options.mode.value}")
    print(f"Timing:    first run {first.seconds * 1000:.0f} ms, second run {second.seconds * 1000:.0f} ms")
    print("Areas:     " + safe_text(", ".join(f"{k} {v:.1f} %" for k, v in stats.percent.items()), 400))
    if args.device == "cuda" and model.device != "CUDA":
        problems.append(f"CUDA was asked for but does not run ({model.cuda_note or 'unknown reason'})")
    if problems:
        for p in problems:
            print(f"SELFTEST FAILED: {p}", file=sys.stderr)
        return EXIT_FAILED
    print("Selftest passed.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
