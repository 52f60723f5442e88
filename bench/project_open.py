"""Opening a stored photo of a 200-photo project: the time from `Project.open` to its figures on screen
(no model run). `python -m bench.project_open [--photos 200] [--repeat 50] [--project URL_OR_FILE]`.

The project is built first (4 inspections of 2 assets, small synthetic photos analysed by the channel
test model, or `--model FILE`); the figures then come from the database alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.core import figures
from app.core.model import SegmentationModel
from app.core.project import Project, add_inspection_photos

INSPECTIONS = (
    ("P-101-A", dt.date(2022, 5, 1)),
    ("P-101-A", dt.date(2024, 5, 1)),
    ("V-7", dt.date(2023, 1, 10)),
    ("V-7", dt.date(2025, 1, 10)),
)


def build_project(target: str, photos_dir: Path, model: SegmentationModel, photos: int = 200) -> list[int]:
    """A project of `photos` analysed photos over `INSPECTIONS`; returns the stored photo ids."""
    from tests.helpers.pipe_photos import photo_folder

    per = -(-photos // len(INSPECTIONS))
    ids: list[int] = []
    with Project.create(target) as project:
        for n, (tag, date) in enumerate(INSPECTIONS):
            count = min(per, photos - len(ids))
            folder = photo_folder(
                photos_dir / f"inspection{n}", count, 0.05 + 0.05 * n, seed=n, size=(48, 64)
            )
            summary = add_inspection_photos(project, model, tag, date, sorted(folder.iterdir()))
            assert summary.outcome is not None and not summary.failures
            ids += [p.id for p in project.photos(summary.outcome.inspection_id)]
    return ids


def open_photo_figures(target: str, photo_id: int) -> list[tuple[str, str]]:
    """What the app does when a stored photo is opened: open the project, read the newest result."""
    with Project.open(target) as project:
        result = project.latest_result(photo_id)
        assert result is not None
        share = figures.percent_text(result.corroded_share)
        return [
            ("Corroded share", share),
            ("ASTM D610", str(result.astm_d610)),
            ("ISO", str(result.iso_4628_3)),
        ]


def measure(target: str, ids: list[int], repeat: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    cold = []
    for _ in range(repeat):
        photo_id = rng.choice(ids)
        t0 = time.perf_counter()
        open_photo_figures(target, photo_id)
        cold.append((time.perf_counter() - t0) * 1000)
    with Project.open(target) as project:
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            project.latest_result(rng.choice(ids))
            warm.append((time.perf_counter() - t0) * 1000)
    return {
        "open_and_read_median_ms": statistics.median(cold),
        "open_and_read_max_ms": max(cold),
        "read_only_median_ms": statistics.median(warm),
        "read_only_max_ms": max(warm),
    }


def measure_panel(target: str) -> dict[str, float]:
    """The project panel (real widgets, offscreen): open the project and fill its tree (read on a
    worker thread, shown when it arrives); then pick every 7th stored photo in the tree, which shows its
    stored figures."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from app.ui.project_panel_widget import ROLE, ProjectPanelWidget

    qapp = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    project = Project.open(target)
    panel = ProjectPanelWidget()
    loop = QEventLoop()  # the worker's read arrives through the event loop
    panel.loaded.connect(loop.quit)
    panel.failed.connect(lambda msg: (loop.quit(), print(f"panel: {msg}", file=sys.stderr)))
    panel.set_project(project)
    panel.show()
    loop.exec()
    if panel.view is None:
        raise SystemExit("the panel could not read the project")
    qapp.processEvents()
    filled = (time.perf_counter() - t0) * 1000
    picks = []
    for item in [i for i in panel._items() if i.data(0, ROLE)[0] == "photo"][::7]:
        t0 = time.perf_counter()
        panel.tree.setCurrentItem(item)
        qapp.processEvents()
        assert "\nCorroded share of the asset: " in panel.figures.text()  # under the "Stored in …" line
        picks.append((time.perf_counter() - t0) * 1000)
    panel.close()
    project.close()
    return {
        "panel_open_and_fill_ms": filled,
        "panel_pick_median_ms": statistics.median(picks),
        "panel_pick_max_ms": max(picks),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.project_open", description=__doc__)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--model", type=Path, help="ONNX model (default: the channel test model)")
    parser.add_argument("--project", help="an empty PostgreSQL database URL (default: a temp file)")
    parser.add_argument("--panel", action="store_true", help="also time the project panel (Qt, offscreen)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="corroscope-bench-") as tmp:
        work = Path(tmp)
        model_path = args.model
        if model_path is None:
            from tests.helpers.tiny_models import channel_model

            model_path = channel_model(work / "channel.onnx")
        model = SegmentationModel.load(model_path, device="cpu")
        target = args.project or str(work / "bench.corroscope")
        t0 = time.perf_counter()
        ids = build_project(target, work / "photos", model, args.photos)
        built = time.perf_counter() - t0
        out = {"photos": len(ids), "build_s": round(built, 2), **measure(target, ids, args.repeat)}
        if args.panel:
            out.update(measure_panel(target))
    json.dump({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
