"""`corroscope project list / export / trend / relocate` and their refusals, in-process."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from PIL import Image

from app import cli
from app.core.project import Project
from app.core.project.photos import describe_photo
from tests.helpers.pipe_photos import photo_folder


@pytest.fixture
def filled(target: str, tmp_path: Path, tiny_model_path: Path) -> str:
    """A project with two assets: P-101-A inspected twice, V-7 (name and location given) once."""
    assert cli.main(["project", "create", target]) == 0
    runs = [("P-101-A", "2022-05-01", 0.05), ("P-101-A", "2024-05-01", 0.2), ("V-7", "2023-01-10", 0.1)]
    for n, (tag, date, rust) in enumerate(runs):
        folder = photo_folder(tmp_path / f"in{n}", 2, rust, seed=n)
        args = ["project", "add", target, "--asset", tag, "--date", date, str(folder)]
        if tag == "V-7":
            args += ["--asset-name", "gate valve", "--asset-location", "unit 3", "--notes", "after the leak"]
        assert (
            cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu", "--inspector", "Ann"]) == 0
        )
    return target


def test_list_names_every_asset_and_inspection(filled: str, capsys) -> None:
    capsys.readouterr()
    assert cli.main(["project", "list", filled]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "P-101-A",
        "  2022-05-01  Ann  2 photos",
        "  2024-05-01  Ann  2 photos",
        "V-7  (gate valve, unit 3)",
        "  2023-01-10  Ann  2 photos",
    ]
    with Project.open(filled) as project:
        assert [i.notes for i in project.inspections("V-7")] == ["after the leak"]


def test_export_writes_the_csvs_and_a_pdf_per_asset_and_never_replaces_them(
    qapp, filled: str, tmp_path: Path, capsys
) -> None:
    """(`qapp`: the PDF needs a Qt application; pytest-qt's, so later widget tests can share it.)"""
    out = tmp_path / "export"
    assert cli.main(["project", "export", filled, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "P-101-A_trend.pdf",
        "V-7_trend.pdf",
        "project.csv",
        "trends.csv",
    ]
    for pdf in out.glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    with open(out / "project.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["asset"], r["inspection_date"]) for r in rows] == [
        ("P-101-A", "2022-05-01"),
        ("P-101-A", "2022-05-01"),
        ("P-101-A", "2024-05-01"),
        ("P-101-A", "2024-05-01"),
        ("V-7", "2023-01-10"),
        ("V-7", "2023-01-10"),
    ]
    with Project.open(filled) as project:
        (first, *_rest) = project.inspections("P-101-A")
        photo = project.photos(first.id)[0]
        stored = project.latest_result(photo.id)
    assert stored is not None
    assert rows[0]["photo_sha256"] == photo.sha256 and rows[0]["status"] == "ok"
    assert float(rows[0]["corroded_share"]) == pytest.approx(stored.corroded_share, abs=1e-4)
    with open(out / "trends.csv", encoding="utf-8-sig", newline="") as fh:
        trends = list(csv.DictReader(fh))
    assert [(t["asset"], t["date"]) for t in trends] == [
        ("P-101-A", "2022-05-01"),
        ("P-101-A", "2024-05-01"),
        ("V-7", "2023-01-10"),
    ]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert cli.main(["project", "export", filled, "--out", str(out)]) == cli.EXIT_USAGE
    assert "--overwrite" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert cli.main(["project", "export", filled, "--out", str(out), "--overwrite"]) == 0


def test_trend_refuses_to_replace_a_csv_and_names_the_assets_it_knows(
    filled: str, tmp_path: Path, capsys
) -> None:
    existing = tmp_path / "mine.csv"
    existing.write_text("mine\n")
    assert (
        cli.main(["project", "trend", filled, "--asset", "P-101-A", "--csv", str(existing)]) == cli.EXIT_USAGE
    )
    assert existing.read_text() == "mine\n"
    assert cli.main(["project", "trend", filled, "--asset", "nope"]) == cli.EXIT_USAGE
    assert "P-101-A, V-7" in capsys.readouterr().err


def test_relocate_finds_moved_photos(filled: str, tmp_path: Path, capsys) -> None:
    shutil.move(str(tmp_path / "in2"), str(tmp_path / "moved"))
    capsys.readouterr()
    assert cli.main(["project", "relocate", filled, str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 moved photos found" in out and "Still not found" not in out


def test_relocate_names_the_photos_still_not_found(filled: str, tmp_path: Path, capsys) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(str(sorted((tmp_path / "in2").iterdir())[0]), str(moved / "renamed.png"))
    lost = sorted((tmp_path / "in0").iterdir())
    for photo in lost:
        photo.unlink()
    capsys.readouterr()
    assert cli.main(["project", "relocate", filled, str(moved)]) == cli.EXIT_FAILED
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        f"1 moved photo found in {moved}.",
        f"Still not found (2): {lost[0].name}, {lost[1].name}",
    ]
    assert cli.main(["project", "relocate", filled, str(tmp_path / "nowhere")]) == cli.EXIT_USAGE
    assert "nowhere is not a folder" in capsys.readouterr().err


def test_bad_usage_says_what_to_do(tmp_path: Path, tiny_model_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["project", "add", str(tmp_path / "p"), "--asset", "A", "--date", "1.5.2024", str(tmp_path)])
    assert info.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err
    args = [
        "project",
        "add",
        str(tmp_path / "missing"),
        "--asset",
        "A",
        "--date",
        dt.date.today().isoformat(),
    ]
    assert cli.main([*args, str(tmp_path), "--model", str(tiny_model_path)]) == cli.EXIT_USAGE
    assert "corroscope project create" in capsys.readouterr().err
    assert cli.main(["project", "create", str(tmp_path / "nofolder" / "p")]) == cli.EXIT_USAGE
    assert "not found" in capsys.readouterr().err


def test_add_stores_the_review_signed_and_saved_for_a_photo(
    target: str, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    """As the window's Add inspection: a mask signed in the window and saved in `<folder> results`
    comes into the project with its photo; an unsigned edit does not."""
    import numpy as np

    from app.core.reviewed import ReviewState, write_reviewed_mask

    folder = photo_folder(tmp_path / "site", 3, 0.1, seed=4)
    signed, edited, _plain = sorted(folder.iterdir())
    results = tmp_path / "site results"
    results.mkdir()
    with Image.open(signed) as im:
        size = im.size
    asset_only = np.full((size[1], size[0]), 1, np.uint8)
    write_reviewed_mask(
        results / f"{signed.stem}_mask.reviewed.png", asset_only, review=ReviewState.reviewed_now("Ann")
    )
    write_reviewed_mask(results / f"{edited.stem}_mask.edited.png", asset_only)
    assert cli.main(["project", "create", target]) == 0
    args = ["project", "add", target, "--asset", "P-1", "--date", "2024-05-01", str(folder)]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu"]) == 0
    assert "3 photos stored (1 with the review signed for it)" in capsys.readouterr().out
    with Project.open(target) as project:
        newest = {
            Path(p.path).name: project.results(p.id)[-1]
            for i in project.inspections()
            for p in project.photos(i.id)
        }
    assert newest[signed.name].reviewed_by == "Ann" and newest[signed.name].corroded_share == 0.0
    assert newest[edited.name].reviewed_by is None


def test_adding_again_stores_a_review_signed_since_once(
    target: str, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    """A photo the inspection holds already takes the review signed for it after the first add; adding
    the same photos a third time stores no second copy of that review."""
    import numpy as np

    from app.core.reviewed import ReviewState, write_reviewed_mask

    folder = photo_folder(tmp_path / "site", 2, 0.1, seed=5)
    first, _second = sorted(folder.iterdir())
    assert cli.main(["project", "create", target]) == 0
    args = ["project", "add", target, "--asset", "P-1", "--date", "2024-05-01", str(folder)]
    args += ["--model", str(tiny_model_path), "--device", "cpu"]
    assert cli.main(args) == 0
    assert "2 photos stored, 0 already stored, 0 failed" in capsys.readouterr().out
    with Image.open(first) as im:
        size = im.size
    results = tmp_path / "site results"
    results.mkdir()
    asset_only = np.full((size[1], size[0]), 1, np.uint8)
    mask = results / f"{first.stem}_mask.reviewed.png"
    write_reviewed_mask(mask, asset_only, review=ReviewState.reviewed_now("Ann"))

    def results_of_first() -> list:
        with Project.open(target) as project:
            stored = project.photos_with_content(describe_photo(first).sha256)
            return [r for p in stored for r in project.results(p.id)]

    assert cli.main(args) == 0
    assert (
        "0 photos stored, 2 already stored (1 took the review signed since), 0 failed"
        in capsys.readouterr().out
    )
    after = results_of_first()
    assert len(after) == 2 and after[-1].reviewed_by == "Ann" and after[-1].corroded_share == 0.0
    assert cli.main(args) == 0
    assert "2 already stored, 0 failed" in capsys.readouterr().out
    assert len(results_of_first()) == 2


def test_notes_for_an_inspection_that_exists_are_not_dropped_silently(
    filled: str, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    """`add --notes` to an existing inspection keeps its notes (they are that inspection's record) and
    says so, naming the command that changes them; it dropped the new notes without a word."""
    folder = photo_folder(tmp_path / "more", 1, 0.1, seed=9)
    capsys.readouterr()
    args = ["project", "add", filled, "--asset", "V-7", "--date", "2023-01-10", str(folder), "--notes", "new"]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cpu", "--inspector", "Ann"]) == 0
    err = capsys.readouterr().err
    assert "--notes not stored: the inspection already exists and keeps its notes" in err
    with Project.open(filled) as project:
        (inspection,) = project.inspections("V-7")
        assert inspection.notes == "after the leak"
