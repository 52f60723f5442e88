"""On a server, an inspection stored while another window removes (or moves away) the asset's last
inspection stays with its photos, in either order; two removals of an inspection's photos at once never
empty it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.errors import ProjectError
from app.core.inference import InferenceOptions
from app.core.project import Project, analyse_record, changes, describe_photo, rows
from app.core.project.records import PhotoEntry
from tests.helpers.pipe_photos import photo_folder

FIRST, SECOND = dt.date(2022, 6, 1), dt.date(2024, 6, 1)
HOLD_S = 1.5  # long enough for the other thread to reach the row it waits on


def _entries(tmp_path: Path, tiny_model) -> list[PhotoEntry]:
    photos = sorted(photo_folder(tmp_path / "p", 3, 0.1).iterdir())
    options = InferenceOptions()
    return [PhotoEntry(describe_photo(p), analyse_record(tiny_model, p, options), "m") for p in photos]


def _both(first: Callable[[], None], second: Callable[[], None], started: threading.Event) -> list[str]:
    """Run `first`; once it says `started`, `second`; what each raised."""
    errors: list[str] = []

    def run(job: Callable[[], None], wait: bool) -> None:
        if wait:
            assert started.wait(30)
        try:
            job()
        except ProjectError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=run, args=(job, n == 1)) for n, job in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def _slowed(monkeypatch, module: object, name: str, started: threading.Event, once: bool = True) -> None:
    real = getattr(module, name)

    def slow(*args, **kwargs):
        out = real(*args, **kwargs)
        if not started.is_set() or not once:
            started.set()
            time.sleep(HOLD_S)
        return out

    monkeypatch.setattr(module, name, slow)


@pytest.mark.parametrize("move", [False, True], ids=["removed", "moved"])
@pytest.mark.parametrize("adder_first", [True, False], ids=["adder-first", "remover-first"])
def test_an_inspection_stored_while_the_assets_last_one_goes_stays(
    pg_database: str, tmp_path: Path, tiny_model, monkeypatch, move: bool, adder_first: bool
) -> None:
    entries = _entries(tmp_path, tiny_model)
    with Project.create(pg_database) as project:
        old = project.add_inspection("G", FIRST, entries[:1], "ann").inspection_id
    started = threading.Event()
    if adder_first:  # the adder holds the asset while it stores its photos
        _slowed(monkeypatch, rows, "add_photos", started)
    else:  # the remover holds the asset it has just deleted as bare
        _slowed(monkeypatch, rows, "_drop_bare_asset", started)
    adder, remover = Project.open(pg_database), Project.open(pg_database)

    def add() -> None:
        adder.add_inspection("G", SECOND, entries[1:], "bob")

    def remove() -> None:
        if move:
            remover.correct_inspection(old, "H", FIRST, "ann", "")
        else:
            remover.remove_inspection(old)

    try:
        errors = _both(add, remove, started) if adder_first else _both(remove, add, started)
    finally:
        adder.close()
        remover.close()
    assert errors == []
    with Project.open(pg_database) as project:
        kept = [(i.asset_tag, i.date, i.photo_count) for i in project.inspections()]
    assert ("G", SECOND, 2) in kept
    assert kept == sorted([("G", SECOND, 2)] + ([("H", FIRST, 1)] if move else []))


def test_two_removals_of_an_inspections_two_photos_at_once_leave_one(
    pg_database: str, tmp_path: Path, tiny_model, monkeypatch
) -> None:
    entries = _entries(tmp_path, tiny_model)
    with Project.create(pg_database) as project:
        inspection = project.add_inspection("G", FIRST, entries[:2], "ann").inspection_id
        first, second = (p.id for p in project.photos(inspection))
    started = threading.Event()
    _slowed(monkeypatch, changes, "log_change", started, once=False)
    one, other = Project.open(pg_database), Project.open(pg_database)
    try:
        errors = _both(lambda: one.remove_photo(first), lambda: other.remove_photo(second), started)
    finally:
        one.close()
        other.close()
    assert errors == ["It is the inspection's only photo: remove the inspection instead"]
    with Project.open(pg_database) as project:
        assert len(project.photos(inspection)) == 1
