"""An inspection corrected (date, inspector, notes) or removed, in the store on SQLite and PostgreSQL
and through `corroscope project inspection`: the trend follows, collisions and unconfirmed removals are
refused, the photo files stay."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from app import cli
from app.core.errors import ProjectError
from app.core.project import Project, add_inspection_photos, changes
from tests.helpers.pipe_photos import photo_folder

FIRST, SECOND = dt.date(2022, 6, 1), dt.date(2024, 6, 1)


@pytest.fixture
def two_inspections(target: str, tmp_path: Path, tiny_model) -> tuple[str, list[Path]]:
    folders = [photo_folder(tmp_path / f"i{n}", 2, 0.05 + 0.2 * n, seed=n) for n in range(2)]
    with Project.create(target) as project:
        for date, folder in zip((FIRST, SECOND), folders, strict=True):
            summary = add_inspection_photos(project, tiny_model, "P-7", date, sorted(folder.iterdir()), "ann")
            assert summary.outcome is not None and not summary.failures
    return target, folders


def test_a_corrected_date_moves_the_inspection_in_the_trend(two_inspections) -> None:
    target, _folders = two_inspections
    with Project.open(target) as project:
        first = project.inspections("P-7")[0]
        project.correct_inspection(first.id, "P-7", dt.date(2025, 1, 1), " bob ", "re-dated")
        assert [(i.date, i.inspector, i.notes) for i in project.inspections("P-7")] == [
            (SECOND, "ann", ""),
            (dt.date(2025, 1, 1), "bob", "re-dated"),
        ]
        assert [row.date for row in project.trend("P-7").rows] == [SECOND, dt.date(2025, 1, 1)]
        with pytest.raises(ProjectError, match="already has an inspection on 2024-06-01 by ann"):
            project.correct_inspection(first.id, "P-7", SECOND, "ann", "")
        with pytest.raises(ProjectError, match="in the future"):
            project.correct_inspection(first.id, "P-7", dt.date.today() + dt.timedelta(days=30), "bob", "")
        assert len(project.inspections("P-7")) == 2


def test_an_inspection_under_a_mistyped_tag_moves_to_its_asset_and_the_bare_tag_goes(two_inspections) -> None:
    target, _folders = two_inspections
    with Project.open(target) as project:
        second = project.inspections("P-7")[1]
        project.correct_inspection(second.id, "P-77", SECOND, "ann", "")  # as a typo would have made it
        project.ensure_asset("P-8", location="rack 3")  # an asset with details but no inspection yet
        assert [a.tag for a in project.assets()] == ["P-7", "P-77", "P-8"]
        project.correct_inspection(second.id, "P-7", SECOND, "ann", "")
        assert [a.tag for a in project.assets()] == ["P-7", "P-8"]  # P-77 had nothing else; P-8 stays
        assert [i.id for i in project.inspections("P-7")][-1] == second.id
        with pytest.raises(ProjectError, match="An asset needs a tag"):
            project.correct_inspection(second.id, "  ", SECOND, "ann", "")


def test_a_removed_inspection_takes_its_records_and_leaves_the_files(two_inspections) -> None:
    target, folders = two_inspections
    with Project.open(target) as project:
        first, second = project.inspections("P-7")
        kept = [p.id for p in project.photos(second.id)]
        assert project.remove_inspection(first.id) == 2
        assert [i.id for i in project.inspections()] == [second.id]
        assert [a.tag for a in project.assets()] == ["P-7"]  # still holds an inspection
        assert [p.id for p in project.photos(second.id)] == kept and all(project.results(p) for p in kept)
        assert project.photos(first.id) == []
        with pytest.raises(ProjectError, match="no longer in the project"):
            project.remove_inspection(first.id)
        with pytest.raises(ProjectError, match="no longer in the project"):
            project.correct_inspection(first.id, "P-7", FIRST, "", "")
    assert all(p.is_file() for f in folders for p in f.iterdir())


def cli_lines(target: str) -> list[str]:
    """What `project list` prints, line by line."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["project", "list", target]) == 0
    return out.getvalue().splitlines()


def _inspection(target: str, *extra: str) -> int:
    return cli.main(["project", "inspection", target, "--asset", "P-7", *extra])


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_the_command_shows_corrects_and_removes_with_confirmation(two_inspections, capsys) -> None:
    target, _folders = two_inspections
    assert _inspection(target, "--date", "2022-06-01", "--inspector", "ann") == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "P-7 2022-06-01 by ann: 2 photos" and len(shown) == 3  # and a line per photo
    with Project.open(target) as project:
        first = project.inspections("P-7")[0]
        (one, two), results = project.photos(first.id), project.latest_results([first.id])[first.id]
    for line, photo, result in zip(shown[1:], (one, two), results, strict=True):
        assert line.startswith(f"  {photo.path}: {result.corroded_share:.2f} %, ASTM D610 ")
        assert line.endswith("needs review" if result.needs_review else "no review needed")
    with pytest.raises(SystemExit):
        _inspection(target, "--date", "2022-13-01")
    assert "argument --date: not a real date: '2022-13-01'" in capsys.readouterr().err
    assert _inspection(target, "--date", "2022-06-01") == 2  # no such inspection without a name
    err = capsys.readouterr().err
    assert "without an inspector's name (--inspector). It has: P-7 2022-06-01 by ann" in err
    fix = ["--date", "2022-06-01", "--inspector", "ann", "--set-date", "2023-06-01", "--set-notes", "n"]
    assert _inspection(target, *fix) == 0
    assert "Corrected: P-7 2023-06-01 by ann: 2 photos; notes: n" in capsys.readouterr().out
    remove = ["--date", "2023-06-01", "--inspector", "ann", "--remove"]
    assert _inspection(target, *remove) == 2
    assert "Pass --yes to remove it" in capsys.readouterr().err
    assert _inspection(target, *remove, "--set-notes", "x", "--yes") == 2
    with Project.open(target) as project:
        assert len(project.inspections()) == 2
    assert _inspection(target, "--date", "2024-06-01", "--inspector", "ann", "--set-asset", "P-9") == 0
    assert "Corrected: P-9 2024-06-01 by ann: 2 photos" in capsys.readouterr().out
    assert _inspection(target, *remove, "--yes", "--by", "Ola Berg") == 0
    out = capsys.readouterr().out
    assert "Removed the inspection P-7 2023-06-01 (2 photos; the files are untouched)" in out
    with Project.open(target) as project:
        assert [(i.asset_tag, i.date) for i in project.inspections()] == [("P-9", SECOND)]
        assert [a.tag for a in project.assets()] == ["P-9"]  # P-7 was left bare: it went
        log = project.changes()
    assert [c.what for c in log][:2] == ["date 2022-06-01 → 2023-06-01; notes were (none)", "asset P-7 → P-9"]
    assert log[2].what.startswith("removed with its 2 photos (corroded share mean ")
    assert log[-1].by == "Ola Berg" and log[0].by == changes.who_changes()  # the account without --by


def test_a_photo_added_by_mistake_is_removed_but_never_an_inspections_last(two_inspections) -> None:
    target, _folders = two_inspections
    with Project.open(target) as project:
        first = project.inspections("P-7")[0]
        wrong, kept = project.photos(first.id)
        project.remove_photo(wrong.id)
        assert [p.id for p in project.photos(first.id)] == [kept.id] and project.results(wrong.id) == []
        assert project.inspections("P-7")[0].photo_count == 1
        with pytest.raises(ProjectError, match="only photo: remove the inspection instead"):
            project.remove_photo(kept.id)
        with pytest.raises(ProjectError, match="no longer in the project"):
            project.remove_photo(wrong.id)
        assert [r.photos for r in project.trend("P-7").rows] == [1, 2]
    assert Path(wrong.path).is_file()


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_the_command_removes_one_photo_by_name_with_confirmation(two_inspections, capsys) -> None:
    target, folders = two_inspections
    name = sorted(folders[0].iterdir())[0].name
    which = ["--date", "2022-06-01", "--inspector", "ann"]
    assert _inspection(target, *which, "--remove-photo", "nope.png") == 2
    assert "holds no photo named 'nope.png'" in capsys.readouterr().err
    assert _inspection(target, *which, "--remove-photo", name) == 2
    assert "Pass --yes to remove it" in capsys.readouterr().err
    assert _inspection(target, *which, "--remove-photo", name, "--remove", "--yes") == 2
    assert _inspection(target, *which, "--remove-photo", name, "--yes") == 0
    assert f"{name} from the inspection P-7 2022-06-01; the file stays." in capsys.readouterr().out
    with Project.open(target) as project:
        assert [i.photo_count for i in project.inspections()] == [1, 2]


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_two_photos_of_one_name_are_told_apart_by_their_paths(
    target: str, tmp_path, tiny_model, capsys
) -> None:
    folders = [photo_folder(tmp_path / side, 1, 0.1 + 0.3 * n, seed=n) for n, side in enumerate("ab")]
    photos = [next(f.iterdir()) for f in folders]
    same = [p.rename(p.with_name("x.png")) for p in photos]  # two cameras' "x.png" in one inspection
    with Project.create(target) as project:
        add_inspection_photos(project, tiny_model, "P-7", FIRST, same, "ann")
    which = ["--date", "2022-06-01", "--inspector", "ann"]
    assert _inspection(target, *which, "--remove-photo", "x.png", "--yes") == 2
    assert f"holds 2 photos named 'x.png' (give the path): {same[0]}, {same[1]}" in capsys.readouterr().err
    assert _inspection(target, *which, "--remove-photo", str(same[1]), "--yes") == 0
    assert _inspection(target, *which) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[-2] == "P-7 2022-06-01 by ann: 1 photo" and shown[-1].startswith(f"  {same[0]}: ")
    same[0].unlink()
    assert _inspection(target, *which) == 0
    assert " (missing: relocate): " in capsys.readouterr().out


def test_a_signed_mask_becomes_the_photos_reviewed_result_in_every_inspection_holding_it(
    two_inspections, tiny_model, tmp_path: Path
) -> None:
    import numpy as np

    from app.core.project.reviews import store_review
    from app.core.project.trend import reviewed_text
    from app.core.reviewed import EDITED, ReviewState, write_reviewed_mask

    target, folders = two_inspections
    photo = sorted(folders[0].iterdir())[0]
    with Project.open(target) as project:
        stored = next(p for i in project.inspections() for p in project.photos(i.id) if p.path == str(photo))
        before = project.latest_result(stored.id)
        assert before is not None and before.review_state == "unreviewed"
        labels = np.zeros((before.record["height"], before.record["width"]), np.uint8)  # all corrosion
        edited = tmp_path / "m" / "photo_mask.edited.png"
        edited.parent.mkdir()
        write_reviewed_mask(edited, labels, review=ReviewState(EDITED))
        with pytest.raises(ProjectError, match="is not signed"):
            store_review(project, tiny_model, photo, edited)
        mask = tmp_path / "m" / "photo_mask.reviewed.png"
        signed = ReviewState.reviewed_now("Ann", "rust all over")
        write_reviewed_mask(mask, labels, review=signed)
        done = store_review(project, tiny_model, photo, mask)
        assert done.name == photo.name and [i.date for i in done.inspections] == [FIRST]
        latest = project.latest_result(stored.id)
        assert latest is not None and len(project.results(stored.id)) == 2
        assert latest.review_state == "reviewed" and latest.reviewed_by == "Ann"
        assert latest.reviewed_mask == str(mask) and latest.reviewed_at == signed.reviewed_at
        assert latest.record["figures_source"] == "reviewed" and latest.corroded_share == 100.0
        trend = project.trend("P-7")
        row = trend.rows[0]
        assert row.corroded_share_max == 100.0 and (row.photos, row.reviewed) == (2, 1)  # counts the review
        said = "1 of 4 photos count with reviewed masks' figures, the rest with the model's."
        assert reviewed_text(trend) == said
        listed = cli_lines(target)
        assert "  2022-06-01  ann  2 photos (1 reviewed)" in listed
        assert "  2024-06-01  ann  2 photos" in listed
        assert cli.main(["project", "export", target, "--out", str(tmp_path / "export")]) == 0
        with open(tmp_path / "export" / "project.csv", encoding="utf-8-sig", newline="") as f:
            rows = {r["photo_path"]: r for r in csv.DictReader(f) if r["inspection_date"] == "2022-06-01"}
        assert (rows[str(photo)]["source"], rows[str(photo)]["reviewed_mask_file"]) == ("reviewed", str(mask))
        other = tmp_path / "not-in-project.png"
        other.write_bytes(b"\x89PNG" + photo.read_bytes()[4:] + b"x")  # other content: not a stored photo
        assert store_review(project, tiny_model, other, mask).inspections == ()


def test_every_correction_and_removal_is_logged_with_who_and_what_it_was(two_inspections) -> None:
    """A report's reader can see what changed after the fact: the change log keeps who, when and the
    values before (a removal its figures), follows an inspection to another asset and outlives what it
    describes; a refused correction, or a detail given for the first time, logs nothing."""
    target, _folders = two_inspections
    with Project.open(target) as project:
        project.ensure_asset("P-7", by="Bo Lind", name="rack")  # first given: no correction
        first, second = project.inspections("P-7")
        project.correct_inspection(first.id, "P-7", dt.date(2021, 6, 1), "ann", "", by="Bo Lind")
        project.correct_inspection(first.id, "P-7", dt.date(2021, 6, 1), "ann", "")  # nothing changed
        with pytest.raises(ProjectError, match="already has an inspection"):
            project.correct_inspection(first.id, "P-7", SECOND, "ann", "", by="Bo Lind")
        photo = project.photos(second.id)[0]
        share = project.latest_result(photo.id).corroded_share
        project.remove_photo(photo.id, by="Cy")
        project.correct_inspection(second.id, "P-9", SECOND, "cy", "north side", by="Bo Lind")
        shares = [project.latest_result(p.id).corroded_share for p in project.photos(first.id)]
        project.remove_inspection(first.id, by="Cy")
        log = [(c.by, c.asset_tag, c.other_tag, c.subject, c.what) for c in project.changes()]
        name = Path(photo.path).name
        assert log == [
            ("Bo Lind", "P-7", None, "inspection P-7 2022-06-01 by ann", "date 2022-06-01 → 2021-06-01"),
            (
                "Cy",
                "P-7",
                None,
                "inspection P-7 2024-06-01 by ann",
                f"photo {name} removed with its results (corroded share {share:.2f} %)",
            ),
            (
                "Bo Lind",
                "P-9",
                "P-7",
                "inspection P-7 2024-06-01 by ann",
                "asset P-7 → P-9; inspector ann → cy; notes were (none)",
            ),
            (
                "Cy",
                "P-7",
                None,
                "inspection P-7 2021-06-01 by ann",
                f"removed with its 2 photos (corroded share mean {sum(shares) / 2:.2f} %, "
                f"worst {max(shares):.2f} %)",
            ),
        ]
        assert project.changes("P-9") == project.changes()[1:3]  # the removal before the move followed it
        assert len(project.changes("P-7")) == 4  # what was moved away from it too
        assert all(c.at.startswith(str(dt.date.today().year)) for c in project.changes())
