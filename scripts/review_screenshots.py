"""Screenshots of the figures' sources and ranges for the user guide: the figures panel of the model's
mask (typical-error line, 80 % range), of an edited unsigned mask and of a reviewed one; the batch PDF's
first two pages as a PDF viewer shows them (pdftoppm); the Model menu with Adapt.

Run through `scripts/screenshots` (which runs every screenshot script), or alone:
`QT_QPA_PLATFORM=offscreen .venv-test/bin/python scripts/review_screenshots.py [--model FILE]`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.core.paths import samples_dir  # noqa: E402
from app.core.report_header import ReportHeader  # noqa: E402
from app.ui.batch_exports import batch_report_options, report_records, write_batch_pdf  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from scripts.shots_common import parse_args, report, save, save_model_menu, settle, shooting_window, wait  # noqa: E402

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    with shooting_window(args) as shot:
        window, scratch = shot.window, shot.scratch
        site = scratch / "Line 7 pipe rack"  # the report prints the folder: no machine path in the docs
        site.mkdir()
        photos = [Path(shutil.copy(p, site)) for p in sorted(samples_dir().glob("*.jpg"))]
        window.controller.run_batch_paths(photos)
        wait(window.controller.batch_finished)
        saved = save_batch_pdf_pages(window, scratch, args.out)
        window.batch.table.selectRow(0)
        wait(window.controller.photo_analyzed)
        settle()
        saved += shoot_sources(window, args.out)
        saved.append(save_model_menu(window, args.out / "model-menu-adapt.png"))
    return report(saved, shot.which)


def shoot_sources(window: MainWindow, out: Path) -> list[Path]:
    """The figures panel for the model's mask, after one brush stroke (edited, unsigned), then signed."""
    saved = [save_panel(window, out / "figures-panel.png")]
    ui, viewer = window.editing, window.viewer
    vp = viewer.viewport()
    w, h = window.controller.result.size

    def at(fx: float, fy: float):
        return viewer.mapFromScene(QPointF(fx * w, fy * h))

    ui.set_tool("brush")
    ui.set_class("corrosion")
    ui.size_spin.setValue(max(4, round(min(w, h) / 40)))
    QTest.mousePress(vp, LEFT, NONE, at(0.30, 0.55))
    for i in range(1, 20):
        QTest.mouseMove(vp, at(0.30 + 0.3 * i / 19, 0.55))
    QTest.mouseRelease(vp, LEFT, NONE, at(0.60, 0.55))
    ui.set_tool("pan")
    settle()
    saved.append(save_panel(window, out / "source-edited.png"))
    window.settings.inspector_name = "A. Inspector"
    ui.edits.mark_reviewed("A. Inspector", "Rust streak along the weld added")
    settle()
    saved.append(save_panel(window, out / "source-reviewed.png"))
    return saved


def save_panel(window: MainWindow, path: Path) -> Path:
    """The figures panel once its wrapped rows are laid out (a busy machine lags the layout)."""
    settle(1000)
    widget = window.figures
    while widget is not None:
        if widget.layout() is not None:
            widget.layout().activate()
        widget = widget.parentWidget()
    settle(300)
    return save(window.figures, path)


def save_batch_pdf_pages(window: MainWindow, scratch: Path, out: Path) -> list[Path]:
    """Write the batch PDF as File ▸ Export batch PDF does; render its summary and first photo page
    with pdftoppm, as a PDF viewer shows them."""
    pdf = scratch / "batch.pdf"
    rows, model = window.batch_model.rows, window.controller.model
    header = ReportHeader("P-101-A", "Line 7 pipe rack", "Example Refinery", "A. Inspector", "2026-03-12")
    options = batch_report_options(window, header)
    write_batch_pdf(pdf, report_records(rows), model, window.grade_scale, True, options)
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is needed for the batch PDF pictures (apt-get install poppler-utils)")
    saved = []
    for page, name in ((1, "batch-report-summary.png"), (2, "batch-report-photos.png")):
        pick = ["-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run(["pdftoppm", "-png", "-r", "70", *pick, str(pdf), str(scratch / "page")], check=True)
        saved.append(Path(shutil.copyfile(scratch / "page.png", out / name)))
    return saved


if __name__ == "__main__":
    sys.exit(main())
