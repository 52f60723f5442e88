"""The project store on SQLite and PostgreSQL: three inspections and their trend against what
`corroscope analyze` gives, re-adding, re-running, moved photos, refusals."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from app import cli
from app.core.errors import ProjectError, ProjectUnavailable
from app.core.inference import InferenceOptions
from app.core.project import Project, add_inspection_photos, analyse_record, describe_photo
from app.core.project.records import PhotoEntry, ReviewMark
from app.core.project.trend import DAYS_PER_YEAR
from tests.helpers.pipe_photos import photo_folder
from tests.reliability.conftest import cli_env

DATES = (dt.date(2021, 6, 1), dt.date(2022, 6, 15), dt.date(2024, 3, 1))
RUST = (0.04, 0.12, 0.25)  # worse each year


@pytest.fixture
def inspections(tmp_path: Path) -> list[Path]:
    """Three folders of four photos: the 2021, 2022 and 2024 inspections of one asset."""
    return [photo_folder(tmp_path / f"insp{n}", 4, rust, seed=n) for n, rust in enumerate(RUST)]


def _analyze_records(folder: Path, out: Path, model: Path) -> list[dict]:
    """The per-photo JSON records of a real `corroscope analyze` run."""
    assert (
        cli.main(["analyze", str(folder), "--out", str(out), "--model", str(model), "--device", "cpu"]) == 0
    )
    photos = [p for p in sorted(out.glob("*.json")) if p.name != "results.json"]  # not the run's record
    return [json.loads(p.read_text(encoding="utf-8")) for p in photos]


def _add(target: str, folder: Path, date: dt.date, model: Path, inspector: str = "") -> int:
    args = ["project", "add", target, "--asset", "P-101-A", "--date", date.isoformat(), str(folder)]
    return cli.main([*args, "--inspector", inspector, "--model", str(model), "--device", "cpu"])


def test_three_inspections_give_the_trend_of_the_per_photo_figures_of_analyze(
    target: str, inspections: list[Path], tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    assert cli.main(["project", "create", target]) == 0
    for n in (2, 0, 1):  # added out of date order
        assert _add(target, inspections[n], DATES[n], tiny_model_path, inspector=f"inspector {n}") == 0
    capsys.readouterr()
    assert cli.main(["project", "trend", target, "--asset", "P-101-A", "--csv", str(tmp_path / "t.csv")]) == 0
    with Project.open(target) as project:
        trend = project.trend("P-101-A")
    assert [r.date for r in trend.rows] == list(DATES)
    means = []
    for n, row in enumerate(trend.rows):
        records = _analyze_records(inspections[n], tmp_path / f"analyze{n}", tiny_model_path)
        shares = [r["corroded_share"] for r in records]
        assert row.inspector == f"inspector {n}" and row.photos == len(records) == 4
        assert row.corroded_share_mean == pytest.approx(sum(shares) / 4, abs=1e-12)
        assert row.corroded_share_max == max(shares)
        assert row.d610_worst == min(r["astm_d610"]["value"] for r in records)
        assert row.iso_worst == max(r["iso_4628_3"]["value"] for r in records)
        means.append(sum(shares) / 4)
    assert means[0] < means[1] < means[2]
    xs = [(d - DATES[0]).days / DAYS_PER_YEAR for d in DATES]
    slope = np.polyfit(xs, means, 1)[0]  # the least-squares line through all three
    assert trend.rate_points_per_year == pytest.approx(slope)
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == (
        "date,inspector,photos,reviewed,corroded_share_mean,corroded_share_max,d610_worst,iso_worst,"
        "rate_points_per_year"
    )
    assert [line.split(",")[0] for line in lines[1:]] == [d.isoformat() for d in DATES]
    assert float(lines[-1].split(",")[-1]) == pytest.approx(trend.rate_points_per_year, abs=1e-4)
    out = capsys.readouterr().out
    assert f"{trend.rate_points_per_year:+.2f} ± {trend.fit.standard_error:.2f} points per year" in out
    printed = next(line for line in out.splitlines() if line.startswith(DATES[2].isoformat()))
    assert f" {means[2]:.2f} " in printed and f"{means[2]:.4f}" not in printed  # the figures' precision
    assert f" Ri {trend.rows[2].iso_worst}" in printed  # the ISO grade by its name, not a bare number


def _snapshot(target: str) -> dict[str, list]:
    """Every row of every table, without the time stamps."""
    with Project.open(target) as project:
        engine = project._engine
    md = sa.MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for table in md.sorted_tables:
            cols = [c for c in table.c if not c.name.endswith("_at")]
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(*table.primary_key))]
    engine.dispose()
    return out


def test_adding_the_same_photos_again_changes_nothing(
    target: str, inspections: list[Path], tiny_model_path: Path, capsys
) -> None:
    Project.create(target).close()
    assert _add(target, inspections[0], DATES[0], tiny_model_path) == 0
    before = _snapshot(target)
    assert len(before["photos"]) == len(before["results"]) == 4
    copy = inspections[0].parent / "renamed"
    shutil.copytree(inspections[0], copy)
    for p in copy.iterdir():
        p.rename(p.with_name("copy_" + p.name))  # same content, other names: still the same photos
    capsys.readouterr()
    assert _add(target, inspections[0], DATES[0], tiny_model_path) == 0
    assert _add(target, copy, DATES[0], tiny_model_path) == 0
    assert "0 photos stored, 4 already stored" in capsys.readouterr().out
    assert _snapshot(target) == before


def test_photos_another_inspection_of_the_asset_holds_are_refused_by_name(
    target: str, inspections: list[Path], tiny_model_path: Path, tiny_model, capsys
) -> None:
    """The same photos added as an inspection of another date would count twice in the asset's trend:
    refused, naming the inspection that holds them; another asset may hold them (one photo, two pipes)."""
    Project.create(target).close()
    assert _add(target, inspections[0], DATES[0], tiny_model_path) == 0
    before = _snapshot(target)
    capsys.readouterr()
    assert _add(target, inspections[0], DATES[1], tiny_model_path) == cli.EXIT_FAILED
    out = capsys.readouterr()
    assert f"stored in the inspection P-101-A {DATES[0].isoformat()}" in out.err
    assert "count twice" in out.err
    assert _snapshot(target) == before
    with Project.open(target) as project:
        photos = sorted(inspections[0].iterdir())
        summary = add_inspection_photos(project, tiny_model, "P-2", DATES[1], photos)
        assert summary.outcome is not None and len(summary.outcome.added) == 4 and not summary.failures


def test_a_rerun_keeps_both_results_and_the_newest_is_shown(target: str, tmp_path: Path, tiny_model) -> None:
    folder = photo_folder(tmp_path / "p", 2, 0.1)
    with Project.create(target) as project:
        summary = add_inspection_photos(project, tiny_model, "V-7", DATES[0], sorted(folder.iterdir()))
        assert summary.outcome is not None and not summary.failures
        photo = project.photos(summary.outcome.inspection_id)[0]
        first = project.latest_result(photo.id)
        record = analyse_record(tiny_model, Path(photo.path), InferenceOptions(mode="tiles"))
        project.add_result(photo.id, PhotoEntry(describe_photo(photo.path), record, "newer.onnx"))
        both = project.results(photo.id)
    assert [r.mode for r in both] == ["resize", "tiles"]
    assert first is not None and both[0].record == first.record
    with Project.open(target) as project:
        newest = project.latest_result(photo.id)
    assert newest is not None and newest.model_name == "newer.onnx" and newest.record == record
    assert newest.review_state == "unreviewed" and newest.scale_mm_per_px is None


def test_moved_photos_are_found_again_by_hash(tmp_path: Path, tiny_model) -> None:
    folder = photo_folder(tmp_path / "site" / "photos", 3, 0.1)
    with Project.create(tmp_path / "site" / "p.corroscope") as project:
        summary = add_inspection_photos(project, tiny_model, "T-1", DATES[0], sorted(folder.iterdir()))
        assert summary.outcome is not None
        photos = project.photos(summary.outcome.inspection_id)
        assert [p.rel_path for p in photos] == [f"photos/photo_00{i}.png" for i in range(3)]
        moved = tmp_path / "elsewhere" / "deep"
        moved.parent.mkdir()
        shutil.move(str(folder), str(moved))
        (moved / "photo_001.png").rename(moved / "renamed.png")
        assert all(project.photo_file(p) is None for p in photos)
        found = project.relocate(tmp_path / "elsewhere")
    assert sorted(Path(p.path).name for p in found) == ["photo_000.png", "photo_002.png", "renamed.png"]
    with Project.open(tmp_path / "site" / "p.corroscope") as project:
        for p in project.photos(summary.outcome.inspection_id):
            assert project.photo_file(p) is not None and describe_photo(p.path).sha256 == p.sha256


def test_a_whole_project_folder_moved_still_finds_its_photos(tmp_path: Path, tiny_model) -> None:
    folder = photo_folder(tmp_path / "a" / "photos", 2, 0.1)
    with Project.create(tmp_path / "a" / "p.corroscope") as project:
        add_inspection_photos(project, tiny_model, "T-1", DATES[0], sorted(folder.iterdir()))
    shutil.move(str(tmp_path / "a"), str(tmp_path / "b"))
    with Project.open(tmp_path / "b" / "p.corroscope") as project:
        (inspection,) = project.inspections()
        files = [project.photo_file(p) for p in project.photos(inspection.id)]
    assert files == [tmp_path / "b" / "photos" / f"photo_00{i}.png" for i in range(2)]


def test_two_windows_writing_at_once_both_land(target: str, tmp_path: Path, tiny_model) -> None:
    Project.create(target).close()
    folders = [photo_folder(tmp_path / f"w{n}", 3, 0.1, seed=n) for n in range(2)]
    errors: list[BaseException] = []

    def window(n: int) -> None:
        try:
            with Project.open(target) as project:
                add_inspection_photos(project, tiny_model, "P-1", DATES[n], sorted(folders[n].iterdir()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=window, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with Project.open(target) as project:
        assert [(i.date, i.photo_count) for i in project.inspections()] == [(DATES[0], 3), (DATES[1], 3)]


def test_an_inspection_dated_in_the_future_is_refused_before_any_analysis(
    tmp_path: Path, tiny_model, tiny_model_path: Path, capsys
) -> None:
    target = str(tmp_path / "p.corroscope")
    folder = photo_folder(tmp_path / "p", 1, 0.1)
    Project.create(target).close()
    later = dt.date.today() + dt.timedelta(days=400)  # a year typed wrong
    with pytest.raises(SystemExit) as refused:  # argparse's usage error
        _add(target, folder, later, tiny_model_path)
    assert refused.value.code == 2
    assert f"The inspection date {later} is in the future" in capsys.readouterr().err
    with Project.open(target) as project:
        with pytest.raises(ProjectError, match="in the future"):
            add_inspection_photos(project, tiny_model, "V-7", later, sorted(folder.iterdir()))
        with pytest.raises(ProjectError, match="in the future"):
            project.add_inspection("V-7", later, [])
        assert project.inspections() == []
    tomorrow = dt.date.today() + dt.timedelta(days=1)  # another time zone's today
    assert _add(target, folder, tomorrow, tiny_model_path) == 0
    assert "New inspection P-101-A " + tomorrow.isoformat() + ": 1 photo stored," in capsys.readouterr().out


def test_names_tags_and_notes_with_control_characters_are_refused_before_any_analysis(
    tmp_path: Path, tiny_model, tiny_model_path: Path, capsys, monkeypatch
) -> None:
    from app.core.project import ingest

    target = str(tmp_path / "p.corroscope")
    folder = photo_folder(tmp_path / "p", 1, 0.1)
    Project.create(target).close()
    analysed: list[Path] = []
    real = ingest.analyse_record
    monkeypatch.setattr(ingest, "analyse_record", lambda m, p, o: analysed.append(p) or real(m, p, o))
    escape = "Bo\x1b]0;pwned\x07"  # a terminal title change, pasted in as a name
    assert _add(target, folder, DATES[0], tiny_model_path, inspector=escape) != 0
    said = capsys.readouterr().err
    assert "The inspector's name holds a control character (\\x1b); type it again without it" in said
    assert analysed == []  # refused before the photos were analysed, not after
    facts = ["project", "add", target, str(folder), "--asset", "P-1", "--date", DATES[0].isoformat()]
    facts += ["--asset-location", "rack\x1b[2J", "--model", str(tiny_model_path), "--device", "cpu"]
    assert cli.main(facts) != 0  # an asset fact too: before, not after an inspection was stored
    assert "The asset's location holds a control character (\\x1b)" in capsys.readouterr().err
    assert analysed == []
    with Project.open(target) as project:
        photos = sorted(folder.iterdir())
        with pytest.raises(ProjectError, match=r"The asset's tag holds a control character \(\\u202e\)"):
            add_inspection_photos(project, tiny_model, "P-\u202e7", DATES[0], photos)  # shows reversed
        with pytest.raises(ProjectError, match="notes holds a control character"):
            project.add_inspection("P-7", DATES[0], [], notes="ok\x1b[2J")
        with pytest.raises(ProjectError, match="The asset's location holds"):
            project.ensure_asset("P-7", location="rack\x003")
        with pytest.raises(ProjectError, match="The reviewer's name holds"):
            ReviewMark("m.png", "Ann\x1b[31m").values()
        assert project.inspections() == [] and project.assets() == []
        # what names and notes do need stays: line breaks in notes, accents, joiners
        project.add_inspection("P-7", DATES[0], [], inspector="Zoë Müller", notes="line 1\nline 2\tend")
        project.ensure_asset("P-7", notes="a\r\nb", name="می\u200cخواهم")
        (inspection,) = project.inspections("P-7")
        assert (inspection.inspector, inspection.notes) == ("Zoë Müller", "line 1\nline 2\tend")


def test_create_refuses_an_existing_project_and_open_a_missing_one(target: str, tmp_path: Path) -> None:
    Project.create(target).close()
    with pytest.raises(ProjectError, match="already"):
        Project.create(target)
    with pytest.raises(ProjectError, match=r"No project at .*corroscope project create"):
        Project.open(tmp_path / "missing.corroscope")


def test_create_refuses_a_database_holding_another_programs_tables(pg_database: str) -> None:
    """A project is made in an empty database only: another program's `assets` table would clash with
    ours (or be written into), so nothing is created and its table stays as it was."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(pg_database).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE assets (name text)")
        conn.execute("INSERT INTO assets VALUES ('pump 7')")
    with pytest.raises(ProjectError, match=r"1 table of another program \(assets\).*empty database"):
        Project.create(pg_database)
    with psycopg.connect(dsn) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        assert tables == [("assets",)]
        assert conn.execute("SELECT name FROM assets").fetchall() == [("pump 7",)]


def test_a_file_that_is_not_a_project_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "notes.corroscope"
    path.write_bytes(b"these are not the droids" * 100)
    with pytest.raises(ProjectError, match="Cannot open"):
        Project.open(path)
    assert path.read_bytes() == b"these are not the droids" * 100


def test_a_file_of_a_newer_schema_is_refused(target: str) -> None:
    Project.create(target).close()
    with Project.open(target) as project, project._engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (99, 'later')"))
    with pytest.raises(ProjectError, match="newer Corroscope"):
        Project.open(target)


def test_sqlite_file_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p") as project:
        assert project.location.file == tmp_path / "p.corroscope"
        with project._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(sa.exc.IntegrityError):
                conn.execute(
                    sa.text(
                        "INSERT INTO inspections (asset_id, date, created_at) VALUES (42, '2024-01-01', 'x')"
                    )
                )


def test_exif_capture_time_is_stored(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "exif.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2024:05:17 10:31:02"
    Image.new("RGB", (32, 24), (120, 60, 40)).save(path, exif=exif)
    assert describe_photo(path).exif_time == "2024-05-17T10:31:02"
    assert describe_photo(photo_folder(tmp_path / "n", 1, 0.1) / "photo_000.png").exif_time is None


def test_a_write_that_waits_too_long_for_another_window_is_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from app.core.project import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "p.corroscope"
    Project.create(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another window in the middle of a long write
    with Project.open(path) as project:
        with pytest.raises(ProjectUnavailable, match=r"Cannot write to .*locked \(another program kept"):
            project.ensure_asset("P-1")  # a failure of the moment (the CLI's exit 1), not bad usage
        assert project.assets() == []  # reading goes on meanwhile (WAL)
        other.execute("ROLLBACK")
        assert project.ensure_asset("P-1").tag == "P-1"
    other.close()


def test_review_state_and_scale_are_stored_per_result(target: str, tmp_path: Path, tiny_model) -> None:
    folder = photo_folder(tmp_path / "p", 1, 0.1)
    with Project.create(target) as project:
        summary = add_inspection_photos(project, tiny_model, "V-7", DATES[0], sorted(folder.iterdir()))
        assert summary.outcome is not None
        (photo,) = project.photos(summary.outcome.inspection_id)
        result = project.latest_result(photo.id)
        assert result is not None
        mark = ReviewMark("p/photo_000_mask.reviewed.png", "A. Inspector", "2024-06-01T10:00:00+00:00")
        project.set_review(result.id, mark)
        with pytest.raises(ProjectError, match="needs the reviewer's name"):
            project.set_review(result.id, ReviewMark("m.png", "  "))
        project.set_scale(result.id, 0.25)
        with pytest.raises(ProjectError, match="positive"):
            project.set_scale(result.id, 0.0)
        with pytest.raises(ProjectError, match="No result"):
            project.set_scale(result.id + 99, 1.0)
    with Project.open(target) as project:
        stored = project.latest_result(photo.id)
    assert stored is not None
    assert (stored.review_state, stored.reviewed_mask, stored.reviewed_by, stored.reviewed_at) == (
        "reviewed",
        "p/photo_000_mask.reviewed.png",
        "A. Inspector",
        "2024-06-01T10:00:00+00:00",
    )
    assert stored.scale_mm_per_px == 0.25


def test_a_server_that_never_answers_is_given_up_after_the_connect_timeout() -> None:
    """A wrong host or a firewall that drops packets must not hold the app for the system's minutes: a
    listening socket that never answers stands in for it (the kernel completes the TCP handshake)."""
    import socket
    import subprocess
    import sys
    import time

    pytest.importorskip("psycopg")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/site"
        code = (
            "import sys\nfrom app.core.project import Project\nfrom app.core.errors import ProjectError\n"
            "try:\n    Project.open(sys.argv[1])\nexcept ProjectError as exc:\n    print(exc)\n"
        )
        env = {**cli_env(), "CORROSCOPE_DB_CONNECT_SECONDS": "2"}
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-c", code, url], capture_output=True, text=True, timeout=60, env=env
            )
        except subprocess.TimeoutExpired:
            pytest.fail("still connecting after 60 s: no connect timeout")
        assert time.monotonic() - start < 30
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Cannot open" in done.stdout and "timeout" in done.stdout.lower(), done.stdout


def test_a_bad_connect_timeout_setting_is_ignored_and_the_urls_own_wins(monkeypatch) -> None:
    from app.core.project import engine

    url = "postgresql://nobody@db.example.com/site"
    for text in ("inf", "nan", "-3", "soon"):  # "inf" crashed round() before the shared parser
        monkeypatch.setenv(engine.CONNECT_SECONDS_ENV, text)
        assert engine._connect_args(url)["connect_timeout"] == engine.CONNECT_SECONDS
    monkeypatch.setenv(engine.CONNECT_SECONDS_ENV, "0.5")
    assert engine._connect_args(url)["connect_timeout"] == 2  # libpq's floor
    assert "connect_timeout" not in engine._connect_args(url + "?connect_timeout=3")


def test_the_photos_of_several_inspections_come_in_one_query_as_each_alone(
    target: str, inspections: list[Path], tiny_model_path: Path
) -> None:
    assert cli.main(["project", "create", target]) == 0
    for n in (0, 1):
        assert _add(target, inspections[n], DATES[n], tiny_model_path) == 0
    with Project.open(target) as project:
        ids = [i.id for i in project.inspections()]
        statements: list[str] = []
        sa.event.listen(project._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        together = project.photos_of(ids)
        assert len([s for s in statements if "photos" in s]) == 1
        assert together == {i: project.photos(i) for i in ids}
        assert all(len(found) == 4 for found in together.values())
