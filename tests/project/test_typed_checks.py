"""What is typed into a project is checked before anything is analysed or stored, the same on SQLite and
PostgreSQL: lengths to the columns' limits, the characters of tags and names, who made a change, dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app import cli
from app.core.errors import ProjectError
from app.core.project import Project, add_inspection_photos
from app.core.project.records import ReviewMark
from tests.helpers.pipe_photos import photo_folder

DATE = dt.date(2024, 3, 1)


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return sorted(photo_folder(tmp_path / "p", 1, 0.1).iterdir())


def test_a_tag_or_name_longer_than_its_column_is_refused_up_front_naming_it(
    target: str, photos: list[Path], tiny_model, tiny_model_path: Path, capsys, monkeypatch
) -> None:
    from app.core.project import ingest

    Project.create(target).close()
    analysed: list[Path] = []
    monkeypatch.setattr(ingest, "analyse_record", lambda m, p, o: analysed.append(p) or {})
    args = ["project", "add", target, str(photos[0]), "--asset", "T" * 250, "--date", DATE.isoformat()]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == cli.EXIT_USAGE
    assert "The asset's tag is 250 characters long; at most 200 fit" in capsys.readouterr().err
    assert analysed == []
    with Project.open(target) as project:
        with pytest.raises(ProjectError, match="The inspector's name is 201 characters long"):
            add_inspection_photos(project, tiny_model, "P-1", DATE, photos, inspector="i" * 201)
        with pytest.raises(ProjectError, match="The reviewer's name is 300 characters long"):
            ReviewMark("m.png", "r" * 300).values()
        assert analysed == [] and project.assets() == []
        monkeypatch.undo()
        summary = add_inspection_photos(project, tiny_model, "P-1", DATE, photos, inspector=" " + "i" * 200)
        assert summary.outcome is not None and len(summary.outcome.added) == 1  # 200 fit, spaces around go
        with pytest.raises(ProjectError, match="The inspector's name is 201 characters long"):
            project.correct_inspection(summary.outcome.inspection_id, "P-1", DATE, "i" * 201, "")
        with pytest.raises(ProjectError, match="The asset's tag is 201 characters long"):
            project.correct_inspection(summary.outcome.inspection_id, "T" * 201, DATE, "", "")
        assert [(i.asset_tag, i.inspector) for i in project.inspections()] == [("P-1", "i" * 200)]


def test_tags_from_a_shared_project_reach_the_terminal_escaped(
    target: str, photos: list[Path], tiny_model, capsys
) -> None:
    """Another client (an older version, a script) wrote a tag with a terminal escape: every message that
    names it, and the CLI's error line whatever it holds, shows `\\x1b`, never the escape itself."""
    from app.core.project.rows import T

    with Project.create(target) as project:
        add_inspection_photos(project, tiny_model, "P-1", DATE, photos, inspector="ann")
        with project._write() as conn:  # as another client would have stored it
            conn.execute(T["assets"].update().values(tag="P-\x1b[2J1").where(T["assets"].c.tag == "P-1"))
    args = ["project", "trend", target, "--asset", "X\x1b]0;t\x07"]
    assert cli.main(args) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "assets: P-\\x1b[2J1" in err and "No asset 'X\\x1b]0;t\\x07'" in err


def test_who_makes_a_change_is_checked_as_every_typed_name(
    target: str, photos: list[Path], tiny_model, capsys
) -> None:
    """`--by "\\u202eyrreJ"` would show as "Jerry" in the change log's PDF: refused, as is an escape."""
    with Project.create(target) as project:
        summary = add_inspection_photos(project, tiny_model, "P-1", DATE, photos)
        assert summary.outcome is not None
        with pytest.raises(ProjectError, match=r"who makes the change holds a control character \(\\x1b\)"):
            project.correct_inspection(summary.outcome.inspection_id, "P-1", DATE, "ann", "", by="B\x1b[31m")
    base = ["project", "inspection", target, "--asset", "P-1", "--date", DATE.isoformat()]
    assert cli.main([*base, "--set-inspector", "bob", "--by", "\u202eyrreJ"]) == cli.EXIT_USAGE
    assert "holds a control character (\\u202e)" in capsys.readouterr().err
    assert cli.main([*base, "--set-inspector", "bob", "--by", " Jerry "]) == 0
    with Project.open(target) as project:
        assert [(c.by, c.what) for c in project.changes()] == [("Jerry", "inspector (none) → bob")]


def test_a_tag_with_an_invisible_character_is_refused_and_spaces_around_one_never_matter(
    target: str, photos: list[Path], tiny_model, tiny_model_path: Path, capsys
) -> None:
    """ "P-1\\u200b" would be a second asset that looks like P-1 in the tree; " P-1 " is P-1 everywhere."""
    Project.create(target).close()
    base = ["project", "add", target, str(photos[0]), "--date", DATE.isoformat()]
    model = ["--model", str(tiny_model_path), "--device", "cpu"]
    assert cli.main([*base, "--asset", "P-1\u200b", *model]) == cli.EXIT_USAGE
    assert "The asset's tag holds an invisible character (\\u200b)" in capsys.readouterr().err
    with Project.open(target) as project:
        for invisible in ("\u00ad", "\ufeff", "\u2060"):  # soft hyphen, BOM, word joiner
            with pytest.raises(ProjectError, match="holds an invisible character"):
                add_inspection_photos(project, tiny_model, f"P{invisible}-1", DATE, photos)
        assert project.assets() == []
    assert cli.main([*base, "--asset", " P-1 ", "--inspector", " ann ", *model]) == 0
    assert f"New inspection P-1 {DATE.isoformat()} (ann): 1 photo stored" in capsys.readouterr().out
    assert cli.main(["project", "trend", target, "--asset", " P-1 "]) == 0
    with Project.open(target) as project:
        assert [a.tag for a in project.assets()] == ["P-1"] and project.asset(" P-1 ") is not None
        assert [i.inspector for i in project.inspections(" P-1\t")] == ["ann"]
        # a name needs joiners (Persian's zero-width non-joiner): only a tag refuses them
        project.ensure_asset("P-1", name="می\u200cخواهم")
        add_inspection_photos(project, tiny_model, "P-2", DATE, photos, inspector="می\u200cخواهم")


def test_a_date_before_1900_is_refused_for_a_new_or_changed_inspection_but_a_stored_one_is_found(
    target: str, photos: list[Path], tiny_model, capsys
) -> None:
    from app.core.project.rows import T

    old = dt.date(1899, 12, 31)
    with Project.create(target) as project:
        with pytest.raises(ProjectError, match="The inspection date 1899-12-31 is before 1900"):
            add_inspection_photos(project, tiny_model, "P-1", old, photos)
        summary = add_inspection_photos(project, tiny_model, "P-1", DATE, photos)
        assert summary.outcome is not None
        inspection_id = summary.outcome.inspection_id
        with pytest.raises(ProjectError, match="The inspection date 1899-12-31 is before 1900"):
            project.correct_inspection(inspection_id, "P-1", old, "", "")
        with project._write() as conn:  # as stored before dates were checked
            conn.execute(
                T["inspections"].update().values(date=old).where(T["inspections"].c.id == inspection_id)
            )
    base = ["project", "inspection", target, "--asset", "P-1", "--date", "1899-12-31"]
    assert cli.main(base) == 0
    assert "P-1 1899-12-31: 1 photo" in capsys.readouterr().out
    assert cli.main([*base, "--set-notes", "year to check"]) == 0  # the date unchanged: notes can be fixed
    with pytest.raises(SystemExit):  # argparse's refusal, exit status 2
        cli.main([*base, "--set-date", "1899-06-01"])
    assert "The inspection date 1899-06-01 is before 1900" in capsys.readouterr().err
    assert cli.main([*base, "--set-date", "1999-12-31"]) == 0
    with Project.open(target) as project:
        assert [(i.date, i.notes) for i in project.inspections()] == [
            (dt.date(1999, 12, 31), "year to check")
        ]
