"""A tag or name typed with a combining accent ("A" + U+0301) and with the composed letter ("Á") is one
asset, one inspector: typed text is stored and looked up in Unicode's composed form (NFC)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

from app import cli
from app.core.project import Project, add_inspection_photos
from tests.helpers.pipe_photos import photo_folder

DATE = dt.date(2024, 3, 1)
DECOMPOSED_TAG, COMPOSED_TAG = "P-101-A\u0301", "P-101-\u00c1"
DECOMPOSED_NAME, COMPOSED_NAME = "Mu\u0308ller", "M\u00fcller"


def test_decomposed_and_composed_text_is_one_asset_and_one_inspection(
    target: str, tmp_path: Path, tiny_model
) -> None:
    photos = sorted(photo_folder(tmp_path / "p", 2, 0.1).iterdir())
    with Project.create(target) as project:
        first = add_inspection_photos(project, tiny_model, DECOMPOSED_TAG, DATE, photos[:1], DECOMPOSED_NAME)
        second = add_inspection_photos(project, tiny_model, COMPOSED_TAG, DATE, photos[1:], COMPOSED_NAME)
        assert first.outcome is not None and second.outcome is not None
        assert second.outcome.inspection_id == first.outcome.inspection_id and not second.outcome.created
        assert [a.tag for a in project.assets()] == [COMPOSED_TAG]
        assert [(i.inspector, i.photo_count) for i in project.inspections()] == [(COMPOSED_NAME, 2)]
        assert project.asset(DECOMPOSED_TAG) is not None  # found typed either way
        assert len(project.trend(DECOMPOSED_TAG).rows) == 1
        assert unicodedata.is_normalized("NFC", project.inspections()[0].inspector)


def test_the_command_line_finds_an_inspection_typed_the_other_way(
    target: str, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    folder = photo_folder(tmp_path / "p", 1, 0.1)
    assert cli.main(["project", "create", target]) == 0
    add = ["project", "add", target, str(folder), "--asset", COMPOSED_TAG, "--date", DATE.isoformat()]
    model = ["--model", str(tiny_model_path), "--device", "cpu"]
    assert cli.main([*add, "--inspector", COMPOSED_NAME, *model]) == 0
    capsys.readouterr()
    show = ["project", "inspection", target, "--asset", DECOMPOSED_TAG, "--date", DATE.isoformat()]
    assert cli.main([*show, "--inspector", DECOMPOSED_NAME]) == 0
    assert f"by {COMPOSED_NAME}: 1 photo" in capsys.readouterr().out
