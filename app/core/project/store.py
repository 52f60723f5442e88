"""The project store: assets, inspections, photos and results in one database, read and written here.

Every write is one transaction: an inspection and all its photos and results land together or not at
all, so a crash or `kill -9` never leaves half an inspection.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.core.errors import ProjectError
from app.core.project import engine as eng
from app.core.project.records import (
    AddOutcome,
    Asset,
    Inspection,
    PhotoEntry,
    StoredPhoto,
    StoredResult,
)
from app.core.project.schema import current_metadata, now_utc
from app.core.project.trend import Trend, build_trend

log = logging.getLogger(__name__)
_MD, T = current_metadata()


class Project:
    """An open project. Use `Project.create(target)` or `Project.open(target)`; close it (or `with`)."""

    def __init__(self, location: eng.Location, engine: sa.Engine) -> None:
        self.location, self._engine, self._writer = location, engine, eng.writer(engine)

    @classmethod
    def create(cls, target: str | os.PathLike[str]) -> Project:
        """A new, empty project; refuses a file that exists or a database that holds a project."""
        location = eng.locate(target)
        if location.file is not None:
            if location.file.exists():
                raise ProjectError(f"{location.file} already exists; open it, or choose another name")
            if not location.file.parent.is_dir():
                raise ProjectError(f"Cannot create {location.file}: folder {location.file.parent} not found")
        engine = eng.make_engine(location)
        try:
            eng.create_schema(engine)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            if location.file is not None:
                _remove_sqlite(location.file)
            raise ProjectError(f"Cannot create a project at {location.display}: {_reason(exc)}") from None
        except ProjectError:
            engine.dispose()
            raise
        log.info("created project %s", location.display)
        return cls(location, engine)

    @classmethod
    def open(cls, target: str | os.PathLike[str]) -> Project:
        """An existing project, migrated to the current schema if it is older."""
        location = eng.locate(target)
        if location.file is not None and not location.file.is_file():
            raise ProjectError(
                f"No project at {location.file}; make one with: corroscope project create {location.file}"
            )
        engine = eng.make_engine(location)
        try:
            eng.upgrade(engine, location.display)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise ProjectError(f"Cannot open {location.display}: {_reason(exc)}") from None
        except ProjectError as exc:
            engine.dispose()
            raise ProjectError(f"Cannot open {location.display}: {exc}") from None
        return cls(location, engine)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._engine.connect() as conn:
            return eng.stored_version(conn)

    # ---- reading -------------------------------------------------------------------------------

    def assets(self) -> list[Asset]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(T["assets"]).order_by(T["assets"].c.tag)).mappings()
            return [_asset(r) for r in rows]

    def asset(self, tag: str) -> Asset | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(T["assets"]).where(T["assets"].c.tag == tag)).mappings().first()
            return None if row is None else _asset(row)

    def inspections(self, asset_tag: str | None = None) -> list[Inspection]:
        """Inspections in date order (then inspector), each with its number of photos."""
        a, i, p = T["assets"], T["inspections"], T["photos"]
        count = sa.select(sa.func.count(p.c.id)).where(p.c.inspection_id == i.c.id).scalar_subquery()
        query = (
            sa.select(i, a.c.tag.label("asset_tag"), count.label("photo_count"))
            .join(a, a.c.id == i.c.asset_id)
            .order_by(a.c.tag, i.c.date, i.c.inspector, i.c.id)
        )
        if asset_tag is not None:
            query = query.where(a.c.tag == asset_tag)
        with self._engine.connect() as conn:
            return [_inspection(r) for r in conn.execute(query).mappings()]

    def photos(self, inspection_id: int) -> list[StoredPhoto]:
        p = T["photos"]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(p).where(p.c.inspection_id == inspection_id).order_by(p.c.id))
            return [_photo(r) for r in rows.mappings()]

    def photo(self, photo_id: int) -> StoredPhoto | None:
        p = T["photos"]
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(p).where(p.c.id == photo_id)).mappings().first()
            return None if row is None else _photo(row)

    def results(self, photo_id: int) -> list[StoredResult]:
        """Every stored analysis of the photo, oldest first."""
        r = T["results"]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(r).where(r.c.photo_id == photo_id).order_by(r.c.id)).mappings()
            return [_result(row) for row in rows]

    def latest_result(self, photo_id: int) -> StoredResult | None:
        """The newest analysis of the photo: what opening it shows, with no model run."""
        r = T["results"]
        query = sa.select(r).where(r.c.photo_id == photo_id).order_by(r.c.id.desc()).limit(1)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
            return None if row is None else _result(row)

    def latest_results(self, inspection_ids: Iterable[int]) -> dict[int, list[StoredResult]]:
        """Per inspection, the newest result of each of its photos (photo order)."""
        r, p = T["results"], T["photos"]
        ids = list(inspection_ids)
        newest = sa.select(sa.func.max(r.c.id)).group_by(r.c.photo_id).scalar_subquery()
        query = (
            sa.select(r, p.c.inspection_id)
            .join(p, p.c.id == r.c.photo_id)
            .where(r.c.id.in_(newest), p.c.inspection_id.in_(ids))
            .order_by(p.c.id)
        )
        out: dict[int, list[StoredResult]] = {i: [] for i in ids}
        with self._engine.connect() as conn:
            for row in conn.execute(query).mappings():
                out[row["inspection_id"]].append(_result(row))
        return out

    def stored_hashes(self, asset_tag: str, date: _dt.date, inspector: str = "") -> set[str]:
        """SHA-256 of the photos already in that inspection (empty if it does not exist yet)."""
        a, i, p = T["assets"], T["inspections"], T["photos"]
        query = (
            sa.select(p.c.sha256)
            .join(i, i.c.id == p.c.inspection_id)
            .join(a, a.c.id == i.c.asset_id)
            .where(a.c.tag == asset_tag, i.c.date == date, i.c.inspector == inspector)
        )
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def photo_file(self, photo: StoredPhoto) -> Path | None:
        """Where the photo is now: beside the project as stored relative to it, else its stored path."""
        candidates = []
        if photo.rel_path is not None and self.location.folder is not None:
            candidates.append(self.location.folder / photo.rel_path)
        candidates.append(Path(photo.path))
        return next((c for c in candidates if c.is_file()), None)

    def trend(self, asset_tag: str) -> Trend:
        """One row per inspection of the asset in date order, from each photo's newest result."""
        if self.asset(asset_tag) is None:
            known = ", ".join(a.tag for a in self.assets()) or "none yet"
            raise ProjectError(f"No asset {asset_tag!r} in {self.location.display} (assets: {known})")
        inspections = self.inspections(asset_tag)
        return build_trend(asset_tag, inspections, self.latest_results(i.id for i in inspections))

    # ---- writing -------------------------------------------------------------------------------

    def ensure_asset(self, tag: str, **fields: str) -> Asset:
        """The asset with this tag, made if new; given `fields` (name, location, ...) are updated."""
        tag = _check_tag(tag)
        with self._writer.begin() as conn:
            return _asset(_ensure_asset(conn, tag, fields))

    def add_inspection(
        self,
        asset_tag: str,
        date: _dt.date,
        entries: Sequence[PhotoEntry],
        inspector: str = "",
        notes: str = "",
    ) -> AddOutcome:
        """Store analysed photos in the inspection (asset, date, inspector), made if new, in ONE
        transaction; a photo whose SHA-256 the inspection already holds is left as it is."""
        asset_tag, inspector = _check_tag(asset_tag), inspector.strip()
        p = T["photos"]
        with self._writer.begin() as conn:
            asset = _ensure_asset(conn, asset_tag, {})
            inspection_id, created = _ensure_inspection(conn, asset["id"], date, inspector, notes)
            held = set(
                conn.execute(sa.select(p.c.sha256).where(p.c.inspection_id == inspection_id)).scalars()
            )
            added, already = [], []
            for entry in entries:
                if entry.file.sha256 in held or not entry.record:
                    already.append(entry.file.path)
                    continue
                held.add(entry.file.sha256)
                photo_id = _insert_new(conn, p, self._photo_values(entry, inspection_id))
                if photo_id is None:  # another window stored it a moment ago
                    already.append(entry.file.path)
                    continue
                self._insert_result(conn, photo_id, entry)
                added.append(entry.file.path)
        return AddOutcome(int(inspection_id), created, tuple(added), tuple(already))

    def add_result(self, photo_id: int, entry: PhotoEntry) -> int:
        """Another analysis of a stored photo (e.g. a newer model); the older ones are kept."""
        with self._writer.begin() as conn:
            return self._insert_result(conn, photo_id, entry)

    def relocate(self, folder: str | os.PathLike[str], recursive: bool = True) -> list[StoredPhoto]:
        """Find photos that are no longer where stored in `folder`, by SHA-256; store their new place.
        Returns the photos found again (as stored now)."""
        from app.core.project.photos import find_by_hash

        with self._engine.connect() as conn:
            stored = [_photo(r) for r in conn.execute(sa.select(T["photos"])).mappings()]
        missing = [s for s in stored if self.photo_file(s) is None]
        found = find_by_hash(Path(folder), {s.sha256: s.size for s in missing}, recursive)
        moved = [(s, found[s.sha256]) for s in missing if s.sha256 in found]
        p = T["photos"]
        with self._writer.begin() as conn:
            for photo, path in moved:
                conn.execute(p.update().where(p.c.id == photo.id).values(**self._path_values(path)))
        return [self.photo(photo.id) for photo, _path in moved]  # type: ignore[misc]

    # ---- helpers -------------------------------------------------------------------------------

    def _path_values(self, path: Path) -> dict[str, Any]:
        absolute = Path(os.path.abspath(path))
        rel = None
        if self.location.folder is not None:
            try:
                rel = Path(os.path.relpath(absolute, self.location.folder)).as_posix()
            except ValueError:  # another drive on Windows
                rel = None
        return {"path": str(absolute), "rel_path": rel}

    def _photo_values(self, entry: PhotoEntry, inspection_id: int) -> dict[str, Any]:
        f, rec = entry.file, entry.record
        return dict(
            inspection_id=inspection_id,
            **self._path_values(f.path),
            sha256=f.sha256,
            size=f.size,
            exif_time=f.exif_time,
            width=rec.get("width"),
            height=rec.get("height"),
            added_at=now_utc(),
        )

    @staticmethod
    def _insert_result(conn: sa.Connection, photo_id: int, entry: PhotoEntry) -> int:
        rec = entry.record
        astm, iso = rec.get("astm_d610"), rec.get("iso_4628_3")
        values = dict(
            photo_id=photo_id,
            model_name=entry.model_name,
            model_sha256=rec["model_sha256"],
            provider=rec["provider"],
            mode=rec["mode"],
            corroded_share=rec.get("corroded_share"),
            astm_d610=None if astm is None else astm["value"],
            iso_4628_3=None if iso is None else iso["value"],
            needs_review=bool(rec.get("needs_review")),
            mean_confidence=rec.get("mean_confidence"),
            record=rec,
            created_at=now_utc(),
        )
        return int(conn.execute(T["results"].insert().values(**values)).inserted_primary_key[0])


def _check_tag(tag: str) -> str:
    tag = tag.strip()
    if not tag:
        raise ProjectError("An asset needs a tag (e.g. P-101-A)")
    return tag


def _ensure_asset(conn: sa.Connection, tag: str, fields: dict[str, str]) -> sa.RowMapping:
    a = T["assets"]
    unknown = set(fields) - {"name", "location", "material", "notes"}
    if unknown:
        raise ValueError(f"unknown asset fields: {sorted(unknown)}")
    row = conn.execute(sa.select(a).where(a.c.tag == tag)).mappings().first()
    if row is None:
        _insert_new(conn, a, dict(tag=tag, created_at=now_utc(), **fields))
    elif fields:
        conn.execute(a.update().where(a.c.id == row["id"]).values(**fields))
    return conn.execute(sa.select(a).where(a.c.tag == tag)).mappings().one()


def _ensure_inspection(
    conn: sa.Connection, asset_id: int, date: _dt.date, inspector: str, notes: str
) -> tuple[int, bool]:
    """(id, created) of the inspection (asset, date, inspector)."""
    i = T["inspections"]
    key = (i.c.asset_id == asset_id, i.c.date == date, i.c.inspector == inspector)
    found = conn.execute(sa.select(i.c.id).where(*key)).scalar()
    if found is not None:
        return int(found), False
    values = dict(asset_id=asset_id, date=date, inspector=inspector, notes=notes, created_at=now_utc())
    new_id = _insert_new(conn, i, values)
    if new_id is None:  # another window made it a moment ago (PostgreSQL; SQLite writes one at a time)
        return int(conn.execute(sa.select(i.c.id).where(*key)).scalar_one()), False
    return new_id, True


def _insert_new(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> int | None:
    """INSERT the row unless it breaks a unique key (then None, not an error that ends the
    transaction): two windows adding the same asset, inspection or photo at once both succeed."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    found = conn.execute(statement).scalar()
    return None if found is None else int(found)


def _asset(r: sa.RowMapping) -> Asset:
    return Asset(r["id"], r["tag"], r["name"], r["location"], r["material"], r["notes"])


def _inspection(r: sa.RowMapping) -> Inspection:
    return Inspection(
        r["id"], r["asset_id"], r["asset_tag"], r["date"], r["inspector"], r["notes"], int(r["photo_count"])
    )


def _photo(r: sa.RowMapping) -> StoredPhoto:
    keys = ("id", "inspection_id", "path", "rel_path", "sha256", "size", "exif_time", "width", "height")
    return StoredPhoto(*(r[k] for k in keys))


def _result(r: sa.RowMapping) -> StoredResult:
    fields = StoredResult.__dataclass_fields__
    return StoredResult(**{k: r[k] for k in fields})


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]


def _remove_sqlite(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + extra).unlink()
