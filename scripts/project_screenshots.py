"""Screenshots of the project features for docs/projects.md: the project panel, the trend view and the
compare view, from the real window on a demo project (synthetic pipe photos, three yearly inspections).

`QT_QPA_PLATFORM=offscreen .venv-test/bin/python scripts/project_screenshots.py [--model FILE]`

Without --model it uses the tiny channel test model (red -> corrosion, blue -> asset): on synthetic
photos its figures follow the painted rust, where the shipped model, trained on real photos, does not
(models/MODEL_CARD.md, failure cases). The pictures show the layout, not the model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.files import write_png  # noqa: E402
from app.core.synthetic import synthetic_pipe  # noqa: E402
from app.ui.add_inspection_dialog import InspectionRequest  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.settings import AppSettings  # noqa: E402
from scripts.screenshots import pick_model, save, settle, wait  # noqa: E402

YEARS = (
    (dt.date(2022, 5, 17), "A. Inspector", 0.06),
    (dt.date(2023, 6, 2), "A. Inspector", 0.12),
    (dt.date(2025, 5, 20), "B. Inspector", 0.22),
)


def demo_photos(folder: Path, rust: float, count: int = 4) -> tuple[Path, ...]:
    folder.mkdir(parents=True)
    return tuple(
        write_png(
            folder / f"P-101-A_{n + 1:02d}.png", synthetic_pipe(40 + n, (480, 640), rust=rust + 0.02 * n)[0]
        )
        for n in range(count)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.model is None:
            from tests.helpers.tiny_models import channel_model

            model_path, which = channel_model(scratch / "channel-test-model.onnx"), "the channel test model"
        else:
            model_path, which = pick_model(args.model, scratch)
        window = MainWindow(AppSettings.at(scratch / "settings.ini"))
        window.resize(1400, 900)
        window.show()
        window.controller.load_model(model_path, "cpu")
        wait(window.controller.model_loaded)
        window.projects.open(scratch / "site.corroscope", create=True)
        for date, inspector, rust in YEARS:
            paths = demo_photos(scratch / f"{date.year}", rust)
            window.projects.add_inspection(InspectionRequest("P-101-A", date, inspector, paths))
            wait(window.projects.inspection_added)
        panel = window.projects.panel
        panel.tree.setCurrentItem(panel.tree.topLevelItem(0).child(2).child(0))
        settle(800)
        saved = [save(window, args.out / "project-panel.png")]
        trend = window.projects.show_trend("P-101-A")
        settle()
        saved.append(save(trend, args.out / "project-trend.png"))
        compare = window.projects.show_compare("P-101-A")
        compare.views[0].zoom_by(2.0)
        settle()
        saved.append(save(compare, args.out / "project-compare.png"))
        window.controller.shutdown()
        window.close()
    for path in saved:
        print(f"wrote {path}")
    print(f"model: {which}; platform: {app.platformName()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
