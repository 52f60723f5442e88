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


def test_a_full_disk_part_way_leaves_nothing_in_the_way_of_a_retry(
    alike: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk on the third file left project.csv and a PDF behind, and the retry without
    --overwrite was refused for them ("in the way": files of the very export that failed)."""
    import errno
    import os

    from app.core.errors import ExportError

    real, calls = os.fsync, []

    def full_on_third(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    for out in (tmp_path / "new", tmp_path / "there"):
        (tmp_path / "there").mkdir(exist_ok=True)
        calls.clear()
        monkeypatch.setattr(os, "fsync", full_on_third)
        with Project.open(alike) as project, pytest.raises(ExportError, match="No space left on device"):
            export_project(project, out)
        assert not out.exists() or list(out.iterdir()) == [], "no file of its own, no temporary file"
        monkeypatch.setattr(os, "fsync", real)
        with Project.open(alike) as project:  # the retry: not blocked, no --overwrite needed
            done = export_project(project, out)
        assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in done.files)


@pytest.mark.parametrize("window", [False, True])
def test_a_file_that_appears_meanwhile_is_refused_in_the_words_of_who_exports(
    alike: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: bool
) -> None:
    """Both said "(ask to overwrite to replace it)": the command's option is --overwrite, and the
    window asks (again, on a second export)."""
    from app.core.errors import OutputExistsError
    from app.report import project_export
    from app.ui.project_export_job import _export_job

    out = tmp_path / "export"
    real = project_export.project_table

    def another_program_writes_first(project):
        (out / "project.csv").write_text("someone else's")
        return real(project)

    monkeypatch.setattr(project_export, "project_table", another_program_writes_first)
    with pytest.raises(OutputExistsError) as refused:
        if window:
            _export_job(str(alike), out, False)
        else:
            with Project.open(alike) as project:
                export_project(project, out)
    said = str(refused.value)
    assert "ask to overwrite" not in said
    wanted = "export again to be asked whether to replace it" if window else "pass --overwrite to replace it"
    assert said.endswith(f"project.csv already exists ({wanted})"), said
    assert sorted(p.name for p in out.iterdir()) == ["project.csv"], "only the other program's file"
