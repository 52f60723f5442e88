"""The window's in-memory view of a project answers as the project itself does, and `ProjectReads`
delivers only the newest read of a key, nothing after `drop_all` (real SQLite project, real threads)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from app.core.inference import InferenceOptions
from app.core.project import PhotoEntry, Project, add_inspection_photos, analyse_record, describe_photo
from app.ui.project_view import ProjectReads, load_view
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS


@pytest.fixture
def project(tmp_path: Path, tiny_model):
    """Two assets, three inspections, a re-run photo (two results, the view holds the newest)."""
    project = Project.create(tmp_path / "site.corroscope")
    for n, (tag, year) in enumerate((("P-1", 2022), ("P-1", 2024), ("V-2", 2023))):
        folder = photo_folder(tmp_path / f"insp{n}", 2, 0.05 + 0.1 * n, seed=n, size=(48, 64))
        add_inspection_photos(project, tiny_model, tag, dt.date(year, 5, 1), sorted(folder.iterdir()))
    photo = project.photos(project.inspections()[0].id)[1]
    path = Path(photo.path)
    again = PhotoEntry(describe_photo(path), analyse_record(tiny_model, path, InferenceOptions()), "again")
    project.add_result(photo.id, again)
    assert len(project.results(photo.id)) == 2
    yield project
    project.close()


def test_the_view_answers_as_the_project_does(project: Project) -> None:
    view = load_view(project)
    assert view.assets() == project.assets()
    assert view.asset("V-2") == project.asset("V-2") and view.asset("nope") is None
    assert view.inspections() == project.inspections()
    assert view.inspections("P-1") == project.inspections("P-1")
    ids = [i.id for i in project.inspections()]
    for i in ids:
        assert view.photos(i) == project.photos(i)
        for photo in project.photos(i):
            assert view.photo(photo.id) == photo
            assert view.latest_result(photo.id).id == project.latest_result(photo.id).id  # the newest
            assert view.photo_file(photo) == project.photo_file(photo)
    ours, theirs = view.latest_results(ids), project.latest_results(ids)
    assert {i: [r.id for r in rs] for i, rs in ours.items()} == {
        i: [r.id for r in rs] for i, rs in theirs.items()
    }
    assert view.trend("P-1") == project.trend("P-1")


def test_only_the_newest_read_of_a_key_is_delivered_and_none_after_drop_all(qtbot) -> None:
    reads = ProjectReads()
    gates = [threading.Event() for _ in range(3)]
    got: list[object] = []

    def held(n: int) -> int:
        gates[n].wait(TIMEOUT_MS / 1000)
        return n

    reads.run("view", held, 0, done=got.append, failed=got.append)
    reads.run("view", held, 1, done=got.append, failed=got.append)  # supersedes 0
    assert reads.busy
    for gate in gates[:2]:
        gate.set()
    qtbot.waitUntil(lambda: reads.pool.active == 0, timeout=TIMEOUT_MS)
    assert got == [1] and not reads.busy
    reads.run("view", held, 2, done=got.append, failed=got.append)
    reads.drop_all()  # the project closed
    assert not reads.busy
    gates[2].set()
    qtbot.waitUntil(lambda: reads.pool.active == 0, timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert got == [1]
