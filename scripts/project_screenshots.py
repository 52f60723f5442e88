"""Screenshots of the project features for docs/projects.md: the project panel, the trend view and the
compare view, from the real window on a demo project (synthetic pipe photos, three yearly inspections).

`QT_QPA_PLATFORM=offscreen .venv-test/bin/python scripts/project_screenshots.py [--model FILE]`

Without --model it uses the tiny channel test model (red -> corrosion, blue -> asset): on synthetic
photos its figures follow the painted rust, where the shipped model, trained on real photos, does not
(models/MODEL_CARD.md, failure cases). The pictures show the layout, not the model.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.files import write_png  # noqa: E402
from app.core.synthetic import synthetic_pipe  # noqa: E402
from app.ui.add_inspection_dialog import InspectionRequest  # noqa: E402
from scripts.shots_common import (  # noqa: E402
    channel_test_model,
    parse_args,
    report,
    save,
    settle,
    shooting_window,
    wait,
)

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
    args = parse_args(__doc__, argv)
    with shooting_window(args, model=channel_test_model) as shot:
        window, scratch = shot.window, shot.scratch
        window.projects.open(scratch / "site.corroscope", create=True)
        wait(window.projects.project_changed)  # made on a worker
        for date, inspector, rust in YEARS:
            paths = demo_photos(scratch / f"{date.year}", rust)
            window.projects.add_inspection(InspectionRequest("P-101-A", date, inspector, paths))
            wait(window.projects.inspection_added)
        assert window.projects.project is not None
        window.projects.project.ensure_asset("P-101-A", name="Feed line north", location="Pipe rack 3")
        panel = window.projects.panel
        panel.refresh()
        while panel.loading:  # the panel reads the project on a worker
            settle(50)
        panel.tree.setCurrentItem(panel.tree.topLevelItem(0).child(2).child(0))
        settle(800)
        saved = [save(window, args.out / "project-panel.png")]
        window.projects.show_trend("P-101-A")
        wait(window.projects.dialog_opened)
        trend = window.projects.dialogs[-1]
        settle()
        saved.append(save(trend, args.out / "project-trend.png"))
        window.projects.show_compare("P-101-A")
        wait(window.projects.dialog_opened)
        compare = window.projects.dialogs[-1]
        compare.views[0].zoom_by(2.0)
        settle()
        saved.append(save(compare, args.out / "project-compare.png"))
        window.open_folder(scratch / "2025")  # a batch, so that Add inspection offers its photos
        wait(window.controller.batch_finished)
        panel.add_button.click()
        add = window.projects.dialogs[-1]
        add.inspector.setText("B. Inspector")
        add.notes.setPlainText("North side from the walkway; the clamp at 3 m not reached.")
        add.add_batch.click()
        wait(add.listed)
        add.photos.item(1).setSelected(True)
        settle()
        saved.append(save(add, args.out / "project-add-inspection.png"))
        add.reject()
    return report(saved, shot.which)


if __name__ == "__main__":
    sys.exit(main())
