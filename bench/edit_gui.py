"""Editing in the real window on a 12 MP photo: the UI thread's longest stall per action.

`python -m bench.edit_gui [--model M] [--size 4000x3000] [--json FILE]`: the window (offscreen) opens a
synthetic pipe photo; a 10 ms heartbeat on the UI thread (bench/heartbeat.py, as bench.ui_probe's stall
probe) runs while real mouse events (QTest) paint a stroke of pointer moves 10 ms apart, draw a polygon,
flood-fill, undo and redo, and drag a smart-select box (worker). Reported per action: the longest gap
between beats (what the user feels, painting included) and the time spent in the event handler.
Without --model, a tiny channel-argmax model is built (the model's speed does not matter here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _window(model: Path, ini: Path):
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.settings import AppSettings

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    win = MainWindow(AppSettings.at(ini))
    win.resize(1280, 820)
    win.show()
    _wait(qt_app, win.controller.model_loaded, lambda: win.controller.load_model(model, "cpu"))
    return qt_app, win


def _wait(qt_app, signal, start, timeout_s: float = 300.0) -> None:
    got: list[object] = []
    signal.connect(lambda *a: got.append(a))
    start()
    end = time.perf_counter() + timeout_s
    while not got and time.perf_counter() < end:
        qt_app.processEvents()
        time.sleep(0.002)
    if not got:
        raise RuntimeError("timed out")


def _pump(qt_app, ms: float) -> None:
    """Run the event loop (beats, paints) for `ms`, as between two real pointer events."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        qt_app.processEvents()
        time.sleep(0.001)


def _action(qt_app, heart, name: str, steps, gap_ms: float = 10.0, win=None) -> dict:
    """Run each step (one input event), the event loop `gap_ms` between them; the longest beat gap."""
    _pump(qt_app, 100)
    before = win.controller.result.labels.copy()
    heart.start()
    handler_ms = []
    for step in steps:
        t = time.perf_counter()
        step()
        handler_ms.append((time.perf_counter() - t) * 1000)
        _pump(qt_app, gap_ms)
    while win.editing.edits.busy:  # a fill or smart select runs in a worker: its edit lands after it
        _pump(qt_app, 10)
    _pump(qt_app, 200)  # the coalesced figures update and the last paint
    heart.stop()
    return {
        "action": name,
        "changed_pixels": int((win.controller.result.labels != before).sum()),
        "events": len(handler_ms),
        "longest_stall_ms": heart.longest_ms,
        "stalls_over_50ms": heart.stalls_over(50),
        "longest_handler_ms": round(max(handler_ms), 1),
        "mean_handler_ms": round(sum(handler_ms) / len(handler_ms), 1),
    }


def run(model: Path | None, size: tuple[int, int], tmp: Path) -> dict:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from app.core.files import write_png
    from app.core.synthetic import synthetic_pipe
    from bench.heartbeat import Heartbeat

    if model is None:
        from tests.helpers.tiny_models import channel_model

        model = channel_model(tmp / "tiny.onnx")
    w, h = size
    rgb, _ = synthetic_pipe(5, (h, w))
    photo = write_png(tmp / "pipe_12mp.png", rgb) or tmp / "pipe_12mp.png"
    qt_app, win = _window(model, tmp / "settings.ini")
    _wait(qt_app, win.controller.photo_analyzed, lambda: win.open_photo(photo), 600)
    vp, viewer, ui = win.viewer.viewport(), win.viewer, win.editing
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def pos(fx: float, fy: float):
        return viewer.mapFromScene(QPointF(fx * w, fy * h))

    heart = Heartbeat(10)
    out = {"photo": f"{w}x{h}", "view": f"{vp.width()}x{vp.height()}", "zoom": round(viewer.zoom(), 4)}
    ui.set_tool("brush")
    ui.size_spin.setValue(40)
    xs = [0.1 + 0.8 * i / 99 for i in range(100)]
    steps = [lambda: QTest.mousePress(vp, left, none, pos(0.1, 0.5))]
    steps += [lambda x=x: QTest.mouseMove(vp, pos(x, 0.5 + 0.1 * ((x * 37) % 1 - 0.5))) for x in xs]
    steps += [lambda: QTest.mouseRelease(vp, left, none, pos(0.9, 0.5))]
    actions = [_action(qt_app, heart, "brush stroke, 100 moves, radius 40 px", steps, win=win)]
    ui.size_spin.setValue(300)
    actions.append(_action(qt_app, heart, "brush stroke, 100 moves, radius 300 px", steps, win=win))
    ui.size_spin.setValue(1000)  # the largest brush the tool allows
    actions.append(_action(qt_app, heart, "brush stroke, 100 moves, radius 1000 px", steps, win=win))
    ui.set_tool("polygon")
    corners = [(0.2, 0.2), (0.8, 0.25), (0.7, 0.8), (0.25, 0.75)]
    poly = [lambda c=c: QTest.mouseClick(vp, left, none, pos(*c)) for c in corners]
    poly.append(lambda: QTest.mouseClick(vp, Qt.MouseButton.RightButton, none, pos(*corners[-1])))
    actions.append(_action(qt_app, heart, "polygon fill, 36 % of the photo", poly, gap_ms=50, win=win))
    ui.set_tool("fill")
    ui.set_class("asset")
    fill = [lambda: QTest.mouseClick(vp, left, none, pos(0.02, 0.02))]
    actions.append(_action(qt_app, heart, "flood fill of the background region", fill, win=win))
    actions.append(_action(qt_app, heart, "undo (the flood fill)", [ui.undo], win=win))
    actions.append(_action(qt_app, heart, "redo", [ui.redo], win=win))
    ui.undo()
    ui.set_tool("smart")
    box = [
        lambda: QTest.mousePress(vp, left, none, pos(0.05, 0.2)),
        lambda: QTest.mouseMove(vp, pos(0.5, 0.5)),
        lambda: QTest.mouseRelease(vp, left, none, pos(0.95, 0.8)),
    ]
    before_smart = win.controller.result.labels.copy()
    t0 = time.perf_counter()
    smart = _action(qt_app, heart, "smart select box (worker) and its edit", box, win=win)
    heart.start()
    while ui.edits.busy:
        _pump(qt_app, 10)
    _pump(qt_app, 200)
    heart.stop()
    smart["seconds_to_result"] = round(time.perf_counter() - t0, 2)
    smart["longest_stall_ms"] = max(smart["longest_stall_ms"], heart.longest_ms)
    smart["stalls_over_50ms"] += heart.stalls_over(50)
    smart["changed_pixels"] = int((win.controller.result.labels != before_smart).sum())
    actions.append(smart)
    out["actions"] = actions
    ui.edits.sessions.clear()  # nothing to ask on close
    win.controller.shutdown()
    win.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.edit_gui")
    p.add_argument("--model", type=Path)
    p.add_argument("--size", default="4000x3000")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.model, (w, h), Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
