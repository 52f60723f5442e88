"""`relocate` with two files of one content (a photo and its copy under another name, each stored for
another asset): each photo is found again at the file of its own name, never both at one file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path, PurePath

from app import cli
from app.core.project import Project, add_inspection_photos
from tests.helpers.pipe_photos import photo_folder


def test_copies_of_one_photo_are_each_found_at_their_own_name(
    target: str, tmp_path: Path, tiny_model, capsys
) -> None:
    source = sorted(photo_folder(tmp_path / "p", 1, 0.1).iterdir())[0]
    shot = tmp_path / "shots"
    shot.mkdir()
    original, copy = shot / "ORI_001.png", shot / "copyA.png"
    shutil.copyfile(source, original)
    shutil.copyfile(source, copy)
    with Project.create(target) as project:
        add_inspection_photos(project, tiny_model, "R", dt.date(2024, 1, 2), [original])
        add_inspection_photos(project, tiny_model, "S", dt.date(2024, 1, 2), [copy])
    moved = tmp_path / "moved"
    shutil.move(str(shot), str(moved))
    capsys.readouterr()
    assert cli.main(["project", "relocate", target, str(moved)]) == 0
    out = capsys.readouterr().out
    assert f"found again: {moved / 'ORI_001.png'}" in out and f"found again: {moved / 'copyA.png'}" in out
    with Project.open(target) as project:
        held = {i.asset_tag: project.photos(i.id)[0] for i in project.inspections()}
        assert PurePath(held["R"].path).name == "ORI_001.png"
        assert PurePath(held["S"].path).name == "copyA.png"
