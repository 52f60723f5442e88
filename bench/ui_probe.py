"""The desktop app as a user meets it, offscreen: cold start and the UI thread's longest stall.

`python -m bench.ui_probe coldstart --model M --photo P` (the parent puts its launch time, `time.time()`,
in $BENCH_T0): process start to the window's first paint event and to the first analysed photo, through
`app.ui.main.create_window` as `corroscope gui --model M P` does it.
`python -m bench.ui_probe firstfigures --model M --photo P --repeats 5`: with the window up and the model
loaded, the time from asking to open P to the photo on screen and to its figures on screen (the result
state set and its signal handled, as a user sees it), median and each run, with the UI thread's longest
stall over the whole time (a 10 ms heartbeat).
`python -m bench.ui_probe stall --model M --photos DIR`: a 10 ms heartbeat timer on the UI thread while
the window runs the folder as a batch (the approach of tests/ui/test_batch.py); the longest gap between
beats is the longest time the UI could not respond.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.child import run_json_child

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TIMEOUT_S = 600


def _app_and_window(model: Path, paths: list[Path], ini: Path):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from app.ui.main import create_window, parse_args
    from app.ui.settings import AppSettings

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    QCoreApplication.setOrganizationName("CorroscopeBench")
    QCoreApplication.setApplicationName("CorroscopeBench")
    args = parse_args(["--model", str(model), "--device", "cpu", "--settings", str(ini), *map(str, paths)])
    return qt_app, create_window(args, AppSettings.at(ini))


def _shown_with_model(model: Path, ini: Path):
    """(app, window): the window shown at 1000x700 once its model has loaded in its worker, so that no
    clock starts during the load."""
    qt_app, window = _app_and_window(model, [], ini)
    window.resize(1000, 700)
    window.show()
    loaded: list[object] = []
    window.controller.model_loaded.connect(loaded.append)
    while not loaded:
        qt_app.processEvents()
        time.sleep(0.01)
    return qt_app, window


def coldstart(model: Path, photo: Path) -> dict:
    t0 = float(os.environ.get("BENCH_T0", time.time()))
    marks: dict[str, float] = {"imported_s": 0.0}
    from PySide6.QtCore import QEvent, QObject, QTimer

    class PaintWatch(QObject):
        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint and "first_paint_s" not in marks:
                marks["first_paint_s"] = time.time() - t0
            return False

    marks["imported_s"] = time.time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        qt_app, window = _app_and_window(model, [photo], Path(tmp) / "settings.ini")
        watch = PaintWatch()
        window.installEventFilter(watch)

        def analysed(_item) -> None:
            marks["first_result_s"] = time.time() - t0
            QTimer.singleShot(0, qt_app.quit)

        window.controller.photo_analyzed.connect(analysed)
        window.controller.photo_failed.connect(lambda msg: (marks.update(error=msg), qt_app.quit()))
        window.controller.model_loaded.connect(
            lambda _m: marks.setdefault("model_loaded_s", time.time() - t0)
        )
        QTimer.singleShot(TIMEOUT_S * 1000, qt_app.quit)
        window.show()
        qt_app.exec()
        window.controller.shutdown()
        window.close()
    return marks


def stall(model: Path, photos: Path) -> dict:
    from PySide6.QtCore import QTimer

    from bench.heartbeat import Heartbeat

    with tempfile.TemporaryDirectory() as tmp:
        qt_app, window = _shown_with_model(model, Path(tmp) / "settings.ini")
        heart = Heartbeat(10)
        summary: list[str] = []
        window.controller.batch_finished.connect(lambda msg: (summary.append(msg), qt_app.quit()))
        QTimer.singleShot(TIMEOUT_S * 1000, qt_app.quit)
        heart.start()
        t0 = time.perf_counter()
        window.open_folder(photos)
        qt_app.exec()
        wall = time.perf_counter() - t0
        heart.stop()
        window.controller.shutdown()
        window.close()
    return {
        "photos": window.batch_model.rowCount(),
        "summary": summary[0] if summary else "did not finish",
        "batch_seconds": wall,
        "heartbeats": len(heart.gaps_ms),
        "heartbeat_interval_ms": heart.interval_ms,
        "longest_stall_ms": heart.longest_ms if heart.gaps_ms else None,
        "stalls_over_100ms": heart.stalls_over(100),
    }


def first_figures(model: Path, photo: Path, repeats: int) -> dict:
    import statistics

    from PySide6.QtCore import QEventLoop, QTimer

    from bench.heartbeat import Heartbeat

    with tempfile.TemporaryDirectory() as tmp:
        _qt_app, window = _shown_with_model(model, Path(tmp) / "settings.ini")
        # A loop of its own per run: QApplication.quit() would close the window (Qt 6), so each run
        # timed the window's close (waiting for its workers) and the later runs a hidden window.
        loop = QEventLoop()
        shown: list[float] = []
        figures: list[float] = []
        stalls: list[float] = []
        for _ in range(repeats):
            marks: dict[str, float] = {}

            def on_opened(_item, marks=marks) -> None:
                marks.setdefault("photo", time.perf_counter())

            def on_analyzed(_item, marks=marks) -> None:
                marks.setdefault("figures", time.perf_counter())
                QTimer.singleShot(0, loop.quit)  # after the figures panel has handled the result

            window.controller.photo_opened.connect(on_opened)
            window.controller.photo_analyzed.connect(on_analyzed)
            window.controller.photo_failed.connect(loop.quit)
            heart = Heartbeat(10).start()
            t0 = time.perf_counter()
            window.open_photo(photo)
            loop.exec()
            heart.stop()
            for signal, slot in (
                (window.controller.photo_opened, on_opened),
                (window.controller.photo_analyzed, on_analyzed),
                (window.controller.photo_failed, loop.quit),
            ):
                signal.disconnect(slot)
            shown.append(marks.get("photo", float("nan")) - t0)
            figures.append(marks.get("figures", float("nan")) - t0)
            stalls.append(heart.longest_ms)
        window.controller.shutdown()
        window.close()
    return {
        "photo": photo.name,
        "repeats": repeats,
        "photo_on_screen_s": statistics.median(shown),
        "first_figures_on_screen_s": statistics.median(figures),
        "figures_each_s": [round(f, 3) for f in figures],
        "longest_ui_stall_ms": max(stalls),
    }


def run_child(args: list[str], timeout: float = TIMEOUT_S) -> dict:
    """This module in a fresh interpreter, offscreen; $BENCH_T0 is the launch time for cold start."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BENCH_T0": repr(time.time())}
    return run_json_child("bench.ui_probe", args, timeout, env=env)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ui_probe")
    sub = p.add_subparsers(dest="what", required=True)
    cs = sub.add_parser("coldstart")
    cs.add_argument("--model", type=Path, required=True)
    cs.add_argument("--photo", type=Path, required=True)
    ff = sub.add_parser("firstfigures")
    ff.add_argument("--model", type=Path, required=True)
    ff.add_argument("--photo", type=Path, required=True)
    ff.add_argument("--repeats", type=int, default=5)
    st = sub.add_parser("stall")
    st.add_argument("--model", type=Path, required=True)
    st.add_argument("--photos", type=Path, required=True)
    args = p.parse_args(argv)
    if args.what == "coldstart":
        result = coldstart(args.model, args.photo)
    elif args.what == "firstfigures":
        result = first_figures(args.model, args.photo, args.repeats)
    else:
        result = stall(args.model, args.photos)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
