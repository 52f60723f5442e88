"""The `corroscope` command: `gui` (default), `analyze PATH... --out DIR`, `selftest`, `project ...`,
`adapt PHOTO... --reviewed-masks DIR --out FILE`, `--version`.

Qt and the PDF report are imported only when asked for, so `analyze` and `selftest` run headless.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import logging
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import app
from app import adapt_cli, console, project_cli
from app.analyze_args import add_analyze_args
from app.analyze_cli import analyze
from app.cli_common import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    load_model,
    path_arg,
)
from app.core.errors import CorroscopeError
from app.core.inference import InferenceMode, InferenceOptions, segment
from app.core.model import DEVICES
from app.core.paths import samples_dir
from app.core.photos import find_images, read_image
from app.core.stats import area_stats
from app.core.text import safe_message, safe_path, safe_text

SUBCOMMANDS = ("gui", "analyze", "selftest", "project", "adapt")
# README.md's "Exit status", as `analyze --help` ends
ANALYZE_EXIT_STATUS = """\
exit status:
  0    all photos done
  1    some photos failed (or the run was stopped)
  2    bad usage or no usable model
  3    the Dask scheduler went away mid-batch (run the same command again to
       resume)
  4    another run is writing into the same --out (nothing was written: wait for it,
       or choose another folder)
  130  interrupted twice (Ctrl+C, SIGTERM or SIGHUP; once before the batch starts)
  141  this help's reader went away (| head); a batch finishes its files and keeps
       its status when what it prints cannot be written"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corroscope",
        description="Segment corrosion on photos of pipes. Without a command, the desktop app starts.",
    )
    parser.add_argument("--version", action="version", version=f"corroscope {app.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{gui,analyze,selftest,project,adapt}")
    sub.add_parser("gui", help="start the desktop app (default); its options: corroscope gui --help")

    an = sub.add_parser(
        "analyze",
        help="analyse photos or folders headless; writes mask, overlay, JSON, CSV",
        epilog=ANALYZE_EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog's lines as written
    )
    add_analyze_args(an)
    _model_args(an)

    st = sub.add_parser("selftest", help="load the model, run a sample photo, print provider and timing")
    _model_args(st)
    st.add_argument(
        "--mode",
        choices=[m.value for m in InferenceMode],
        default=InferenceMode.RESIZE.value,
        help="how the sample is run, as `analyze --mode`: resize (default) or tiles (fine detail)",
    )
    project_cli.register(sub)  # `corroscope project ...`; sets args.run
    adapt_cli.register(sub)  # `corroscope adapt ...`; sets args.run
    return parser


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=path_arg, metavar="FILE", help="ONNX model (default: the bundled one)")
    p.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto (default): CUDA if it works, else CPU"
    )


def main(argv: Sequence[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) is app._interrupted_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # loaded: Ctrl+C is ours to handle now
    try:
        return _main(argv)
    finally:
        if app.IS_COMMAND and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the work is over: exit with its code


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "gui":
        return run_gui(argv[1:])
    if argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version"):
        if _looks_like_a_command(argv[0]):  # a mistyped command, not a photo the app could open
            build_parser().error(_unknown_command(argv[0]))
        return run_gui(argv)  # `corroscope photo.jpg`, `corroscope --model m.onnx`
    # Every command writes through `SafeStream`s: a full disk (`> /dev/full`), a closed pipe or a console
    # that is not UTF-8 is no traceback, and a closed stderr (`2>&-`) never sends errors to stdout.
    with console.guarded_streams():
        try:
            rc = _command(argv)
        except SystemExit as exc:  # argparse: --version, --help (0) and usage errors (2)
            code = exc.code if isinstance(exc.code, int) else EXIT_USAGE if exc.code else EXIT_OK
            raise SystemExit(_output_status(code)) from None
        # analyze and adapt make files: a console that fails leaves their status as it was (docs)
        return rc if argv[0] in ("analyze", "adapt") else _output_status(rc)


def _command(argv: list[str]) -> int:
    try:  # a Ctrl+C from here on (building the parser, loading the model, listing): no traceback
        args = build_parser().parse_args(argv)
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        if hasattr(args, "run"):
            return args.run(args)
        if args.command == "analyze":
            return analyze(args)
        return selftest(args)
    except KeyboardInterrupt:  # Ctrl+C before the batch (model loading, folder listing): no traceback
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _output_status(rc: int) -> int:
    """`rc`, unless the command's output could not be written (what it printed was its product:
    `--version`, `selftest`, `project list`): then 141 when the reader went away (`| head`, as a
    program ended by SIGPIPE), else 1 in place of 0 (`> /dev/full` wrote nothing and said 0)."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    failed = getattr(sys.stdout, "failure", None)
    if failed is None:
        return rc
    if failed == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    return EXIT_FAILED if rc == EXIT_OK else rc


def _looks_like_a_command(word: str) -> bool:
    """A bare word (no option, no extension, no folder part) naming nothing on disk: `corroscope analyse`
    is a typo of a command, while a photo, a project or a folder to open has a suffix or exists."""
    if word.startswith("-") or os.path.lexists(word):
        return False
    return not Path(word).suffix and os.sep not in word and "/" not in word


def _unknown_command(word: str) -> str:
    """argparse's wording for a bad choice, with the nearest command when one is close."""
    near = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    return (
        f"unknown command {safe_text(word)!r} ({hint}choose from {', '.join(SUBCOMMANDS)}; "
        "or name a photo, project or folder that exists to open it in the desktop app)"
    )


def run_gui(argv: list[str]) -> int:
    try:
        from app.ui.main import main as gui_main
        from app.ui.main import parse_args as gui_args
    except ImportError as exc:
        print(
            f"The desktop app cannot start here: {exc}.\n" + HEADLESS_HINT,
            file=sys.stderr,
        )
        return EXIT_USAGE
    gui_args(argv)  # a bad option (`corroscope --versio`) is a usage error, display or not
    if (problem := display_problem()) is not None:
        print(f"The desktop app {problem}.\n" + HEADLESS_HINT, file=sys.stderr)
        return EXIT_USAGE
    return int(gui_main(argv))


HEADLESS_HINT = (
    "Check the model and this machine with `corroscope selftest`, or analyse photos headless with "
    "`corroscope analyze PHOTO... --out DIR`."
)


def display_problem() -> str | None:
    """Why the window cannot open on Linux, or None when it may (or when that cannot be told cheaply).
    Qt aborts the process (SIGABRT, "Reinstalling the application may fix this problem") when it cannot
    reach the X server it is told to use, so that is tried first: a DISPLAY that is set says nothing
    of whether a server listens there (a closed SSH session, a stopped Xvfb)."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    display = os.environ.get("DISPLAY", "")
    if platform not in ("", "xcb") or (not platform and os.environ.get("WAYLAND_DISPLAY")):
        return None  # offscreen, Wayland, a frame buffer: Qt's own to judge
    if not display:
        return "needs a display, and none is set (DISPLAY / WAYLAND_DISPLAY)"
    why = _x_connect_error(display)
    return None if why is None else f"cannot connect to display {safe_text(display)} ({why})"


# xcb_connection_has_error's codes that can come from connecting (xcb.h)
_XCB_ERRORS = {
    1: "no X server answers there, or it refused this program",
    5: "not a display name",
    6: "no such screen on that display",
}


def _x_connect_error(display: str) -> str | None:
    """What libxcb (the library Qt connects with) says when it connects to `display`, or None when it
    connects, or when libxcb is missing or does not answer within a few seconds (a far host): Qt then
    says why itself."""
    import ctypes
    import ctypes.util

    try:
        xcb = ctypes.CDLL(ctypes.util.find_library("xcb") or "libxcb.so.1")
        xcb.xcb_connect.restype = ctypes.c_void_p
        xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        xcb.xcb_connection_has_error.restype = ctypes.c_int
        xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
        xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    result: list[int] = []

    def connect() -> None:
        connection = xcb.xcb_connect(os.fsencode(display), None)
        result.append(xcb.xcb_connection_has_error(connection))
        xcb.xcb_disconnect(connection)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(5.0)
    if not result or result[0] == 0:
        return None
    return _XCB_ERRORS.get(result[0], f"libxcb error {result[0]}")


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
    model = load_model(args.model, args.device, "selftest", honour_device=False)  # it diagnoses
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
        print(f"SELFTEST FAILED: {safe_message(exc)}", file=sys.stderr)
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
