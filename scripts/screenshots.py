"""Start the real Corroscope window on the sample photos and save screenshots into docs/images/.

Run through `scripts/screenshots` (Xvfb or offscreen). Each picture is the window (or dialog) as Qt
renders it on screen: photo with overlay, figures and the cursor readout, the batch table, the model
dialog, compare mode, the shortcut list, the scale line and the layers; a photo report's page, drawn
by the report's own code (the batch PDF's pages are review_screenshots.py's).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QScrollArea  # noqa: E402

from app.core.paths import samples_dir  # noqa: E402
from app.ui.help_dialogs import KeyboardShortcutsDialog  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.model_info_dialog import ModelInfoDialog  # noqa: E402
from app.ui.window_actions import all_shortcuts  # noqa: E402
from scripts.shots_common import parse_args, report, save, settle, shooting_window, wait  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    photos = sorted(p for p in samples_dir().glob("*.jpg"))
    if not photos:
        print(f"no sample photos in {samples_dir()}", file=sys.stderr)
        return 1
    # device None: auto, so the status bar shows what really runs and, on a machine without CUDA, why not
    with shooting_window(args, device=None) as shot:
        window = shot.window
        window.controller.run_batch_paths(photos)
        wait(window.controller.batch_finished)
        window.batch.table.selectRow(0)  # the photo follows the selection
        wait(window.controller.photo_analyzed)
        settle()
        point_at_corrosion(window)
        settle()
        saved = [save(window, args.out / "main-window.png")]

        window.overlay_state.set_comparing(True)
        settle()
        saved.append(save(window, args.out / "compare-plain-photo.png"))
        window.overlay_state.set_comparing(False)

        window.viewer.zoom_by(2.5)
        window.overlay_state.set_visible(1, False)
        settle()
        saved.append(save(window.viewer, args.out / "zoomed-corrosion-only.png"))
        window.overlay_state.set_visible(1, True)

        dialog = ModelInfoDialog(window.controller.model, window)
        dialog.show()
        settle()
        saved.append(save(dialog, args.out / "model-info.png"))
        dialog.close()
        shortcuts = KeyboardShortcutsDialog(all_shortcuts(), window)
        shortcuts.show()
        settle()
        saved.append(save(shortcuts, args.out / "keyboard-shortcuts.png"))
        shortcuts.close()
        saved += save_measure_shots(window, args.out)
    return report(saved, shot.which)


def point_at_corrosion(window: MainWindow) -> None:
    """Put the cursor over the middle of the corrosion so the status bar's readout shows."""
    result = window.controller.result
    ys, xs = np.nonzero(result.labels == 0)
    if not len(ys):
        return
    viewer = window.viewer
    at = viewer.mapFromScene(QPointF(float(xs[len(xs) // 2]) + 0.5, float(ys[len(ys) // 2]) + 0.5))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(at),
        QPointF(viewer.viewport().mapToGlobal(at)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewer.viewport(), event)


def drag(viewer, start: QPointF, end: QPointF) -> None:
    """A left-button drag over the viewer, as the mouse sends it (scene points)."""
    from PySide6.QtTest import QTest

    a, b = viewer.mapFromScene(start), viewer.mapFromScene(end)
    QTest.mousePress(viewer.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in (0.3, 0.6, 1.0):
        QTest.mouseMove(viewer.viewport(), a + (b - a) * t)
    QTest.mouseRelease(viewer.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def save_measure_shots(window: MainWindow, out: Path) -> list[Path]:
    """The scale line drawn across the pipe with its length typed, then the scale set with the patch
    outlines and uncertainty layers on and the scale bar; and the one-photo report's page."""
    ui, photo = window.measure_ui, window.controller.current
    window.viewer.fit_to_window()
    h, w = photo.rgb.shape[:2]
    x = w * 0.25  # across the pipe there: its outer diameter is the known length
    rows = np.nonzero(window.controller.result.labels[:, int(x)] != 2)[0]  # not background
    top, bottom = (rows.min(), rows.max() + 1) if rows.size else (h * 0.3, h * 0.7)
    ui.panel.draw_button.setChecked(True)
    drag(window.viewer, QPointF(x, float(top)), QPointF(x, float(bottom)))
    scroll = ui.panel.parentWidget()
    while scroll is not None and not isinstance(scroll, QScrollArea):
        scroll = scroll.parentWidget()
    if scroll is not None:  # the side column scrolls: show the scale panel
        scroll.ensureWidgetVisible(ui.panel)
    ui.panel.length_edit.setText("114.3")  # a DN 100 pipe's outer diameter, in mm
    settle()
    saved = [save(window, out / "scale-line.png")]
    ui.panel.set_button.click()
    for name in ("outlines", "uncertainty"):
        ui.layers.set_visible(name, True)
    settle(600)
    if scroll is not None:
        scroll.ensureWidgetVisible(ui.panel)
        settle()
    saved.append(save(window, out / "scale-and-layers.png"))
    ui.layers.set_visible("uncertainty", False)
    return [*saved, save_photo_report(window.controller.current.path, out)]


def save_photo_report(photo: Path, out: Path) -> Path:
    """The one-photo report as `corroscope analyze --pdf` writes it (header filled, a scale given), its
    page rendered by pdftoppm as a PDF viewer shows it; run from a neutral folder, so no path of this
    machine is printed on it."""
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is needed for the report picture (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "Line 7 pipe rack"
        site.mkdir()
        shutil.copyfile(photo, site / photo.name)
        header = ["--asset-id", "P-101-A", "--location", "Line 7 pipe rack", "--client", "Example Refinery"]
        header += ["--inspector", "A. Inspector", "--inspection-date", "2026-03-12"]
        cmd = [sys.executable, "-m", "app", "analyze", f"{site.name}/{photo.name}", "--out", "out", "--pdf"]
        subprocess.run([*cmd, "--mm-per-px", "0.5", *header], cwd=tmp, check=True, capture_output=True)
        pdf = Path(tmp) / "out" / f"{photo.stem}.pdf"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(Path(tmp) / "page")], check=True
        )
        return Path(shutil.copyfile(Path(tmp) / "page.png", out / "photo-report.png"))


if __name__ == "__main__":
    sys.exit(main())
