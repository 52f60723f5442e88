"""A project made by the first release's schema (v1 DDL) opens, migrates to the current schema in one
step, and keeps every row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.project import SCHEMA_VERSION, Project
from app.core.project.engine import locate, make_engine
from app.core.project.schema import current_metadata, v1_metadata

V1_ROWS = {
    "assets": [
        {
            "tag": "P-101-A",
            "name": "rack",
            "location": "unit 3",
            "material": "epoxy",
            "notes": "",
            "created_at": "2023-01-01T00:00:00+00:00",
        }
    ],
    "inspections": [
        {
            "asset_id": 1,
            "date": "2023-05-01",
            "inspector": "Ann",
            "notes": "",
            "created_at": "2023-05-01T00:00:00+00:00",
        }
    ],
    "photos": [
        {
            "inspection_id": 1,
            "path": "/photos/a.jpg",
            "rel_path": "a.jpg",
            "sha256": "ab" * 32,
            "size": 1234,
            "exif_time": "2023-05-01T09:00:00",
            "width": 640,
            "height": 480,
            "added_at": "2023-05-01T00:00:00+00:00",
        }
    ],
    "results": [
        {
            "photo_id": 1,
            "model_name": "m.onnx",
            "model_sha256": "cd" * 32,
            "provider": "CPU",
            "mode": "resize",
            "corroded_share": 4.5,
            "astm_d610": 4,
            "iso_4628_3": 4,
            "needs_review": False,
            "mean_confidence": 0.9,
            "record": '{"corroded_share": 4.5, "astm_d610": {"value": 4, "label": "4"}}',
            "created_at": "2023-05-01T00:00:00+00:00",
        }
    ],
}


def make_v1_project(target: str) -> None:
    """A project as the first release wrote it: v1 DDL, version row 1, one of everything (ids 1)."""
    engine = make_engine(locate(target))
    with engine.begin() as conn:
        v1_metadata().create_all(conn)
        conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (1, '2023-01-01')"))
        for table, rows in V1_ROWS.items():
            for row in rows:
                cols = ", ".join(row)
                conn.execute(
                    sa.text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row
                )
    engine.dispose()


def _columns(target: str) -> dict[str, set[str]]:
    engine = make_engine(locate(target))
    inspector = sa.inspect(engine)
    out = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    engine.dispose()
    return out


def test_a_v1_project_opens_migrates_and_keeps_its_rows(target: str) -> None:
    make_v1_project(target)
    assert "review_state" not in _columns(target)["results"] and "changes" not in _columns(target)
    with Project.open(target) as project:
        assert project.schema_version == SCHEMA_VERSION == 3
        assert project.changes() == []  # v3: the change log, empty
        (inspection,) = project.inspections("P-101-A")
        (photo,) = project.photos(inspection.id)
        result = project.latest_result(photo.id)
    assert (inspection.inspector, inspection.date.isoformat(), inspection.photo_count) == (
        "Ann",
        "2023-05-01",
        1,
    )
    assert (photo.path, photo.sha256, photo.exif_time) == ("/photos/a.jpg", "ab" * 32, "2023-05-01T09:00:00")
    assert result is not None and result.corroded_share == 4.5 and result.record["astm_d610"]["value"] == 4
    assert (
        result.review_state == "unreviewed"
        and result.reviewed_mask is None
        and result.scale_mm_per_px is None
    )
    with Project.open(target) as project:  # a second open does not migrate again
        assert project.schema_version == 3
        with project._engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars()
            assert list(versions) == [1, 2, 3]
        project.ensure_asset("P-102", name="added after the migration")
        project.ensure_asset("P-101-A", by="Bo", location="unit 4")  # an edit, logged in the new table
        assert [a.tag for a in project.assets()] == ["P-101-A", "P-102"]
        (change,) = project.changes()
        assert (change.by, change.subject, change.what) == (
            "Bo",
            "asset P-101-A",
            "location 'unit 3' → 'unit 4'",
        )


def test_a_new_project_has_exactly_the_tables_the_store_uses(target: str) -> None:
    Project.create(target).close()
    md, _tables = current_metadata()
    assert _columns(target) == {t.name: {c.name for c in t.c} for t in md.sorted_tables}


def test_a_migrated_v1_project_equals_a_new_one(target: str, tmp_path) -> None:
    make_v1_project(target)
    Project.open(target).close()
    fresh = str(tmp_path / "fresh.corroscope")
    Project.create(fresh).close()
    assert _columns(target) == _columns(fresh)


@pytest.mark.parametrize("bad", ["a file of another program", ""])
def test_a_database_without_our_schema_is_not_taken_for_a_project(tmp_path, bad: str) -> None:
    import sqlite3

    from app.core.errors import ProjectError

    path = tmp_path / "other.corroscope"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE things (x TEXT)")
        if bad:
            conn.execute("INSERT INTO things VALUES (?)", (bad,))
    before = path.read_bytes()
    with pytest.raises(ProjectError, match="not a Corroscope project"):
        Project.open(path)
    assert path.read_bytes() == before  # another program's file: not even switched to WAL mode
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_v1_project_on_a_read_only_medium_says_to_upgrade_a_copy(tmp_path, monkeypatch, capsys) -> None:
    from app import cli
    from app.core.project import engine as eng

    path = tmp_path / "v1.corroscope"
    make_v1_project(str(path))
    before = path.read_bytes()
    monkeypatch.setattr(eng, "on_read_only_medium", lambda _path: True)  # as a read-only mount answers
    for command in (["list"], ["trend", "--asset", "P-101-A"]):
        assert cli.main(["project", command[0], str(path), *command[1:]]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"error: Cannot open {path}: it was made by an older Corroscope (schema 1) and is upgraded once "
            "when first opened, which writes to it, but it is on a read-only medium; copy it to a folder "
            "you may write to and open the copy (it is upgraded there; this file stays as it is)"
        )
    assert path.read_bytes() == before
    monkeypatch.undo()
    copy = tmp_path / "copy" / "v1.corroscope"
    copy.parent.mkdir()
    copy.write_bytes(before)
    with Project.open(copy) as project:  # the remedy works
        assert project.schema_version == SCHEMA_VERSION and len(project.inspections()) == 1
