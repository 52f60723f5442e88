"""Screenshots of mask editing for the user guide: painting and smart select (the review state is in
`review_screenshots.py`).

`QT_QPA_PLATFORM=offscreen .venv-test/bin/python scripts/edit_screenshots.py [--model FILE]`: the real
window on the first sample photo with the bundled model (or FILE), driven by real mouse events.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.core.paths import samples_dir  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from scripts.shots_common import parse_args, report, save, settle, shooting_window, wait  # noqa: E402

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with shooting_window(args) as shot:
        photo = sorted(samples_dir().glob("*.jpg"))[0]
        shot.window.open_photo(photo)
        wait(shot.window.controller.photo_analyzed)
        settle()
        saved = shoot(shot.window, args.out)
    return report(saved, shot.which)


def shoot(window: MainWindow, out: Path) -> list[Path]:
    ui, viewer = window.editing, window.viewer
    vp = viewer.viewport()
    result = window.controller.result
    w, h = result.size

    def at(fx: float, fy: float):
        return viewer.mapFromScene(QPointF(fx * w, fy * h))

    ui.set_tool("brush")
    ui.set_class("corrosion")
    ui.size_spin.setValue(max(4, round(min(w, h) / 40)))
    QTest.mousePress(vp, LEFT, NONE, at(0.30, 0.55))
    for i in range(1, 30):
        QTest.mouseMove(vp, at(0.30 + 0.3 * i / 29, 0.55 + 0.05 * np.sin(i / 4)))
    QTest.mouseRelease(vp, LEFT, NONE, at(0.60, 0.55))
    QTest.mouseMove(vp, at(0.62, 0.5))
    settle()
    saved = [save(window, out / "edit-painting.png")]
    ui.undo()

    pipe = result.labels != 2
    # as the model often does: part of the pipe missed (painted to background here), then one box
    ui.set_class("background")
    ui.size_spin.setValue(max(8, round(min(w, h) / 12)))
    QTest.mousePress(vp, LEFT, NONE, at(0.65, 0.40))
    for i in range(1, 20):
        QTest.mouseMove(vp, at(0.65 + 0.3 * i / 19, 0.40 + 0.15 * i / 19))
    QTest.mouseRelease(vp, LEFT, NONE, at(0.95, 0.55))
    ui.set_class("corrosion")
    ui.set_tool("smart")
    settle()
    saved.append(save(window.viewer, out / "edit-smart-select-before.png"))
    rows, cols = np.flatnonzero(pipe.any(axis=1)), np.flatnonzero(pipe.any(axis=0))
    if rows.size:
        y0, y1 = rows[0] / h, (rows[-1] + 1) / h
        x0, x1 = cols[0] / w, (cols[-1] + 1) / w
        QTest.mousePress(vp, LEFT, NONE, at(max(0.0, x0 - 0.02), max(0.0, y0 - 0.03)))
        QTest.mouseMove(vp, at(0.5, 0.5))
        QTest.mouseRelease(vp, LEFT, NONE, at(min(1.0, x1 + 0.02), min(1.0, y1 + 0.03)))
        wait(ui.edits.busy_changed)
        while ui.edits.busy:
            settle(100)
    settle()
    saved.append(save(window, out / "edit-smart-select.png"))
    saved.append(save(window.viewer, out / "edit-smart-select-after.png"))

    return saved


if __name__ == "__main__":
    sys.exit(main())
