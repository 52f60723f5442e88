"""A stored photo of a 200-photo project opens with its stored figures, no model run (the timing is
`python -m bench.project_open`, not a test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import figures
from app.core.project import Project
from bench.project_open import build_project, measure, measure_panel, open_photo_figures


@pytest.mark.slow
def test_a_stored_photo_of_a_200_photo_project_opens_with_its_figures(
    qapp, target: str, tmp_path: Path, tiny_model
) -> None:
    ids = build_project(target, tmp_path / "photos", tiny_model, photos=200)
    assert len(ids) == len(set(ids)) == 200
    with Project.open(target) as project:
        assert sum(i.photo_count for i in project.inspections()) == 200
        stored = project.latest_result(ids[137])
    assert stored is not None
    shown = dict(open_photo_figures(target, ids[137]))
    assert shown["Corroded share"] == figures.percent_text(stored.record["corroded_share"])
    assert shown["ASTM D610"] == str(stored.record["astm_d610"]["value"])
    timings = measure(target, ids, repeat=3)
    assert set(timings) == {
        "open_and_read_median_ms",
        "open_and_read_max_ms",
        "read_only_median_ms",
        "read_only_max_ms",
    }
    assert set(measure_panel(target)) == {
        "panel_open_and_fill_ms",
        "panel_pick_median_ms",
        "panel_pick_max_ms",
    }
