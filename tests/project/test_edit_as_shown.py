"""A correction or an asset's details given with what the user was shown (the window's edits) write only
the fields the user changed: a colleague's change meanwhile stays, one to the same field is refused with
what it is now, and one to an inspection or asset removed meanwhile says so (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.core.errors import ProjectError
from app.core.project import Project, add_inspection_photos
from tests.helpers.pipe_photos import photo_folder

FIRST, OTHER = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


@pytest.fixture
def project(target: str, tmp_path: Path, tiny_model) -> Project:
    photos = sorted(photo_folder(tmp_path / "p", 1, 0.1).iterdir())
    with Project.create(target) as made:
        add_inspection_photos(made, tiny_model, "G", FIRST, photos, "I")
        made.ensure_asset("G", name="Tank 1")
    opened = Project.open(target)
    yield opened
    opened.close()


def test_a_correction_of_the_notes_keeps_a_date_changed_meanwhile(project: Project) -> None:
    (shown,) = project.inspections()
    project.correct_inspection(shown.id, "G", OTHER, "I", "", by="Other")  # a colleague, meanwhile
    project.correct_inspection(shown.id, "G", FIRST, "I", "north side", by="me", shown=shown)
    (now,) = project.inspections()
    assert (now.asset_tag, now.date, now.inspector, now.notes) == ("G", OTHER, "I", "north side")
    assert [c.what for c in project.changes()] == ["date 2024-01-01 → 2024-01-02", "notes were (none)"]


def test_a_field_both_changed_is_refused_with_what_it_is_now(project: Project) -> None:
    (shown,) = project.inspections()
    project.correct_inspection(shown.id, "G", OTHER, "I", "", by="Other")
    with pytest.raises(ProjectError) as refused:
        project.correct_inspection(shown.id, "G", dt.date(2023, 12, 31), "I", "", by="me", shown=shown)
    assert str(refused.value) == (
        "The inspection G 2024-01-01 by I was changed meanwhile (date now 2024-01-02); reload it"
    )
    assert project.inspections()[0].date == OTHER
    project.correct_inspection(shown.id, "G", OTHER, "I", "", by="me", shown=shown)  # the same change: fine


def test_a_correction_of_an_inspection_removed_meanwhile_says_so(project: Project) -> None:
    (shown,) = project.inspections()
    project.remove_inspection(shown.id)
    with pytest.raises(ProjectError, match=r"no longer in the project \(removed meanwhile\?\); reload it$"):
        project.correct_inspection(shown.id, "G", FIRST, "I", "x", shown=shown)


def test_asset_details_keep_a_location_set_meanwhile(project: Project) -> None:
    shown = project.asset("G")
    project.ensure_asset("G", "Other", location="Rack 3")  # a colleague, meanwhile
    project.ensure_asset("G", "me", shown, name="Tank 1", location="", material="steel", notes="")
    now = project.asset("G")
    assert (now.name, now.location, now.material) == ("Tank 1", "Rack 3", "steel")
    with pytest.raises(ProjectError, match=r"^The asset G was changed meanwhile \(location now 'Rack 3'\)"):
        project.ensure_asset("G", "me", shown, name="Tank 1", location="Rack 4", material="", notes="")
    assert project.asset("G").location == "Rack 3"


def test_asset_details_of_an_asset_removed_meanwhile_are_refused_not_made_again(project: Project) -> None:
    shown = project.asset("G")
    project.ensure_asset("G", name="")
    project.remove_inspection(project.inspections()[0].id)  # the asset, bare now, goes with it
    with pytest.raises(ProjectError, match=r"^The asset G is no longer in the project .*; reload it$"):
        project.ensure_asset("G", "me", shown, name="Tank 1", location="x", material="", notes="")
    assert project.assets() == []
