"""Photos whose names are not UTF-8 (raw bytes on a Linux file system) go into a project and are found
again, on SQLite and PostgreSQL; the add used to fail whole with a UnicodeEncodeError."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

from app import cli
from app.core.project import Project
from tests.helpers.pipe_photos import photo_folder

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8 exist on Linux")


def test_a_photo_named_in_raw_bytes_is_stored_listed_and_found(
    target: str, tmp_path: Path, tiny_model_path
) -> None:
    folder = photo_folder(tmp_path / "photos", 2, 0.1)
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/Rohr_\xd8\xff.png"))  # Latin-1 "Ø" and a stray byte
    sorted(folder.iterdir())[0].rename(odd)
    args = [
        "project",
        "add",
        target,
        "--asset",
        "P-1",
        "--date",
        dt.date(2024, 5, 1).isoformat(),
        str(folder),
    ]
    assert cli.main(["project", "create", target]) == 0
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == 0
    with Project.open(target) as project:
        (inspection,) = project.inspections()
        photos = project.photos(inspection.id)
        assert len(photos) == 2
        assert any(p.path.endswith("Rohr_\\xd8\\xff.png") for p in photos), "stored readably"
        assert sorted(project.photo_file(p) for p in photos) == sorted(folder.iterdir())
