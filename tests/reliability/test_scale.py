"""A 1,000-photo batch with flat memory: the resident set size after the warm-up, at the end and at its
highest in between, with generous bounds that a per-photo leak of the label maps would still break."""

from __future__ import annotations

import json
from pathlib import Path

import psutil

from app.core.model import SegmentationModel
from app.core.pipeline import DONE, PhotoOutcome, run_batch
from tests.reliability.conftest import read_csv, small_photos

PHOTOS = 1000
SIZE = (120, 160)  # labels + confidence of one photo: 38 kB; keeping them all would add 38 MB
WARM_UP = 50
GROWTH_LIMIT_MB = 20.0


def test_a_thousand_photos_run_with_flat_memory(
    fast_dir: Path, model: SegmentationModel, record_property
) -> None:
    photos = small_photos(fast_dir / "photos", PHOTOS, size=SIZE)
    me = psutil.Process()
    rss: list[float] = []

    def sample(event: PhotoOutcome) -> None:
        assert event.state == DONE, event.failure
        rss.append(me.memory_info().rss / 2**20)

    summary = run_batch(model, photos, fast_dir / "out", progress=sample)
    assert summary.ok and len(summary.done) == PHOTOS
    start, end, peak = rss[WARM_UP - 1], rss[-1], max(rss[WARM_UP:])
    figures = {
        "photos": PHOTOS,
        "photo_size": f"{SIZE[1]}x{SIZE[0]}",
        "rss_mb_after_warm_up": round(start, 1),
        "rss_mb_at_end": round(end, 1),
        "rss_mb_peak": round(peak, 1),
        "seconds": round(summary.seconds, 1),
    }
    record_property("scale", json.dumps(figures))
    print("scale figures:", json.dumps(figures))
    assert end - start < GROWTH_LIMIT_MB, figures
    assert peak - start < GROWTH_LIMIT_MB, figures
    assert len(read_csv(summary.csv_path)) == PHOTOS
