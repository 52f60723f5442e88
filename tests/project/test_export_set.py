"""`project export` (and File ▸ Export project…) writes a whole set or nothing: a trend PDF of its own
for every asset, however alike their tags, and no half-written set left in the way of a retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.project import Project
from app.report.project_export import export_files, export_project

ALIKE = ["A/1", "A_1", "Pipe", "PIPE", "x" * 100 + "-north", "x" * 100 + "-south"]


@pytest.fixture
def alike(qapp, tmp_path: Path) -> Path:
    """A project file whose assets' tags would share a file name, without a distinct one each."""
    path = tmp_path / "alike.corroscope"
    with Project.create(path) as project:
        for tag in ALIKE:
            project.ensure_asset(tag)
    return path


def test_each_asset_gets_a_pdf_of_its_own_even_where_tags_share_a_name(alike: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    with Project.open(alike) as project:
        done = export_project(project, out)
        tags = [a.tag for a in project.assets()]
    pdfs = [p.name for p in done.files[2:]]
    assert len(pdfs) == len(ALIKE) and len({n.casefold() for n in pdfs}) == len(ALIKE), pdfs
    assert sorted(p.name for p in out.iterdir()) == sorted(["project.csv", "trends.csv", *pdfs])
    assert all(len(n.encode()) < 200 for n in pdfs)
    assert export_files(out, tags) == list(done.files), "the window asks about the names written"
    with Project.open(alike) as project:  # replaced whole, each by its own
        again = export_project(project, out, overwrite=True)
    assert again.files == done.files
