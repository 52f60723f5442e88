"""The project schema (SQLAlchemy Core, one DDL for SQLite and PostgreSQL) and its migrations.

`v1_metadata()` is the first release's schema exactly as it shipped, kept to create v1 files in tests;
every later change is a migration in `MIGRATIONS`. A new project is made by the v1 DDL plus every
migration, so the path an old file takes is the path every new file takes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import sqlalchemy as sa

# Review states of a stored result (the review issue): the model's mask, or an inspector's edit of it.
UNREVIEWED, REVIEWED = "unreviewed", "reviewed"
# Characters of a tag or a name (inspector, reviewer, who changed): the String(200) columns below, which
# PostgreSQL enforces and SQLite does not; `records.check_name` checks it first on both.
NAME_LIMIT = 200


def _base_tables(md: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as of v1 (used by both the v1 DDL and the current metadata).
    Long because it is the schema's table declarations, one after another."""
    version = sa.Table(
        "schema_version",
        md,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
    )
    assets = sa.Table(
        "assets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tag", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("location", sa.Text, nullable=False, server_default=""),
        sa.Column("material", sa.Text, nullable=False, server_default=""),  # material or coating
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    inspections = sa.Table(
        "inspections",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        # '' rather than NULL when unknown, so the unique key below holds (NULLs never compare equal).
        sa.Column("inspector", sa.String(200), nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("asset_id", "date", "inspector", name="uq_inspection"),
    )
    photos = sa.Table(
        "photos",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("path", sa.Text, nullable=False),  # as given, made absolute
        sa.Column("rel_path", sa.Text, nullable=True),  # relative to the project file's folder
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("exif_time", sa.String(40), nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("added_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("inspection_id", "sha256", name="uq_photo_in_inspection"),
    )
    results = sa.Table(
        "results",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("corroded_share", sa.Float, nullable=True),
        sa.Column("astm_d610", sa.Integer, nullable=True),
        sa.Column("iso_4628_3", sa.Integer, nullable=True),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("mean_confidence", sa.Float, nullable=True),
        sa.Column("record", sa.JSON, nullable=False),  # the photo's JSON record: every figure and grade
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    sa.Index("ix_results_photo", results.c.photo_id)
    sa.Index("ix_photos_sha256", photos.c.sha256)
    return {t.name: t for t in (version, assets, inspections, photos, results)}


def v1_metadata() -> sa.MetaData:
    """The schema of the first release (version 1), frozen."""
    md = sa.MetaData()
    _base_tables(md)
    return md


def _v2_columns() -> list[sa.Column]:
    """v2: the review state and reviewed mask of the review issue, the scale of the measurement issue."""
    return [
        sa.Column("review_state", sa.String(20), nullable=False, server_default=UNREVIEWED),
        sa.Column("reviewed_mask", sa.Text, nullable=True),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", sa.String(40), nullable=True),
        sa.Column("scale_mm_per_px", sa.Float, nullable=True),  # physical units only where it is set
    ]


def _migrate_to_v2(conn: sa.Connection) -> None:
    # ADD COLUMN with a constant default is the one ALTER both SQLite and PostgreSQL do the same way.
    for column in _v2_columns():
        ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE results ADD COLUMN {ddl}")


def _changes_table(md: sa.MetaData) -> sa.Table:
    """v3: the change log, one row per correction or removal an inspector made after the fact (who, when,
    what it was before); no foreign keys, so it outlives what it describes."""
    return sa.Table(
        "changes",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        # not "at" / "by": BY is an SQL keyword, and one DDL must suit SQLite and PostgreSQL alike
        sa.Column("changed_at", sa.String(40), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("asset_tag", sa.String(200), nullable=False),  # the asset as it is after the change
        sa.Column("other_tag", sa.String(200), nullable=True),  # the asset it came from, when moved
        sa.Column("inspection_id", sa.Integer, nullable=True),  # its log follows it to another asset
        sa.Column("subject", sa.Text, nullable=False),  # e.g. "inspection P-7 2023-05-02 by A. Müller"
        sa.Column("what", sa.Text, nullable=False),
        sa.Index("ix_changes_asset", "asset_tag"),
    )


def _migrate_to_v3(conn: sa.Connection) -> None:
    _changes_table(sa.MetaData()).create(conn)


# MIGRATIONS[n] takes a project from version n to n + 1.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _migrate_to_v2, 2: _migrate_to_v3}
SCHEMA_VERSION = 1 + len(MIGRATIONS)


def current_metadata() -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The tables as the store reads and writes them now (after every migration)."""
    md = sa.MetaData()
    tables = _base_tables(md)
    for column in _v2_columns():
        tables["results"].append_column(column)
    tables["changes"] = _changes_table(md)
    return md, tables


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
