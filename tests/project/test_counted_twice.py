"""One photo never counts twice in one asset's trend, however it would get there: moved with an
inspection to an asset that holds it, or stored by two `project add` runs at once (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.core.errors import ProjectError
from app.core.inference import InferenceOptions
from app.core.project import Project, add_inspection_photos, analyse_record, describe_photo
from app.core.project.records import PhotoEntry
from tests.helpers.pipe_photos import photo_folder

FIRST, SECOND = dt.date(2022, 6, 1), dt.date(2024, 6, 1)


def test_an_inspection_is_not_moved_to_an_asset_that_holds_its_photo(
    target: str, tmp_path: Path, tiny_model
) -> None:
    photos = sorted(photo_folder(tmp_path / "p", 2, 0.1).iterdir())
    with Project.create(target) as project:
        add_inspection_photos(project, tiny_model, "Q", FIRST, photos[:1])
        summary = add_inspection_photos(project, tiny_model, "R", SECOND, photos)
        assert summary.outcome is not None
        with pytest.raises(ProjectError, match=r"Not moved to Q: its photo photo_000\.png .* count twice"):
            project.correct_inspection(summary.outcome.inspection_id, "Q", SECOND, "", "")
        assert [(i.asset_tag, i.photo_count) for i in project.inspections()] == [("Q", 1), ("R", 2)]


def test_a_photo_stored_meanwhile_in_another_inspection_of_the_asset_is_refused_in_the_write(
    target: str, tmp_path: Path, tiny_model, monkeypatch
) -> None:
    """Two `project add` runs at once: each checked the asset before its analysis, neither saw the
    other's photo; the write checks again and refuses it."""
    photos = sorted(photo_folder(tmp_path / "p", 2, 0.1).iterdir())
    with Project.create(target) as project:
        add_inspection_photos(project, tiny_model, "P-1", FIRST, photos[:1])
        monkeypatch.setattr(Project, "asset_hashes", lambda self, tag: {})  # as read before the other add
        summary = add_inspection_photos(project, tiny_model, "P-1", SECOND, photos)
        assert summary.outcome is not None and [p.name for p in summary.outcome.added] == ["photo_001.png"]
        (failure,) = summary.failures
        assert failure.path == photos[0] and "count twice" in failure.reason
        assert f"inspection P-1 {FIRST.isoformat()}" in failure.reason
        record = analyse_record(tiny_model, photos[0], InferenceOptions())
        entry = PhotoEntry(describe_photo(photos[0]), record, "m.onnx")
        with pytest.raises(ProjectError, match="count twice"):  # nothing else to store: no inspection made
            project.add_inspection("P-1", dt.date(2025, 1, 1), [entry])
        assert [(i.date, i.photo_count) for i in project.inspections()] == [(FIRST, 1), (SECOND, 1)]
