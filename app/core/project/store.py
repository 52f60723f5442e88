"""The project store: assets, inspections, photos and results in one database, read and written here.

Every write is one transaction: an inspection and all its photos and results land together or not at
all, so a crash or `kill -9` never leaves half an inspection.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.core.errors import ProjectError, ProjectUnavailable
from app.core.project import engine as eng
from app.core.project import rows, server_rights
from app.core.project.changes import Change, read_changes
from app.core.project.photos import PhotoLookup, locate_photo, path_values
from app.core.project.records import (
    AddOutcome,
    Asset,
    Inspection,
    PhotoEntry,
    ReviewMark,
    StoredPhoto,
    StoredResult,
    as_typed,
    check_date,
    check_name,
    check_tag,
    check_typed,
)
from app.core.project.trend import Trend, build_trend
from app.core.text import safe_path, safe_repr, safe_text

log = logging.getLogger(__name__)
T = rows.T


class Project:
    """An open project. Use `Project.create(target)` or `Project.open(target)`; close it (or `with`)."""

    def __init__(self, location: eng.Location, engine: sa.Engine) -> None:
        self.location, self._engine, self._writer = location, engine, eng.writer(engine)

    @classmethod
    def create(cls, target: str | os.PathLike[str]) -> Project:
        """A new, empty project; refuses a file that exists or a database that holds a project."""
        location = eng.locate(target)
        if location.file is not None:
            if location.file.is_dir():
                raise ProjectError(f"{location.file} is a folder; name a project file, e.g. site.corroscope")
            if location.file.exists():
                raise ProjectError(f"{location.file} already exists; open it, or choose another name")
            if not location.file.parent.is_dir():
                raise ProjectError(f"Cannot create {location.file}: folder {location.file.parent} not found")
        # exclusively: a second `create` at once is told the file exists (it never deletes ours)
        made = () if location.file is None else eng.make_sqlite_file(location.file)
        engine = eng.make_engine(location)
        try:
            eng.create_schema(engine)
        except (sa.exc.SQLAlchemyError, ProjectError) as exc:
            engine.dispose()
            eng.remove_made(made)  # only what this call made: never another program's project
            if isinstance(exc, ProjectError):
                raise
            why = eng.db_reason(exc)
            raise ProjectError(f"Cannot create a project at {location.display}: {why}") from None
        log.info("created project %s", location.display)
        return cls(location, engine)

    @classmethod
    def open(cls, target: str | os.PathLike[str]) -> Project:
        """An existing project, migrated to the current schema if it is older."""
        location = eng.locate(target)
        if location.file is not None and location.file.is_dir():
            beside = location.file.with_name(location.file.name + eng.SUFFIX)  # `site` for site.corroscope
            if beside.is_file():
                raise ProjectError(f"{location.file} is a folder, not a project; did you mean {beside}?")
            raise ProjectError(
                f"{location.file} is a folder, not a project; name the project file (*{eng.SUFFIX}) in it"
            )
        if location.file is not None and not location.file.is_file():
            raise ProjectError(
                f"No project at {location.file}; make one with: corroscope project create {location.file}"
            )
        read_only = False
        if location.file is not None:
            try:
                eng.check_sqlite_project(location.file)
            except ProjectError as exc:
                raise ProjectError(f"Cannot open {location.file}: {exc}") from None
            read_only = eng.on_read_only_medium(location.file)
        engine = eng.make_engine(location, read_only)
        unwritable = None if location.file is None else eng.read_only_reason(location.file)
        try:
            eng.upgrade(engine, location.display, unwritable)
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            why = unwritable or eng.db_reason(exc)
            raise ProjectError(f"Cannot open {location.display}: {why}") from None
        except ProjectError as exc:
            engine.dispose()
            raise ProjectError(f"Cannot open {location.display}: {exc}") from None
        return cls(location, engine)

    def close(self) -> None:
        self._engine.dispose()

    def abort(self) -> None:
        """Close the project now, even while another thread's query waits on a server that stalled:
        that query fails at once (ProjectError), and no new connection is made (closing a window)."""
        eng.abort(self._engine)
        self._engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        """A read transaction; database errors (server gone, file unreadable) become ProjectError."""
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise ProjectUnavailable(f"Cannot read {self.location.display}: {eng.db_reason(exc)}") from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One write transaction (all or nothing); e.g. a lock held too long becomes ProjectError."""
        try:
            with self._writer.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            why = eng.read_only_reason(self.location.file) if self.location.file is not None else None
            where = self.location.display
            raise ProjectUnavailable(f"Cannot write to {where}: {why or eng.db_reason(exc)}") from None

    def check_writable(self) -> None:
        """Refuse (ProjectUnavailable) a project that cannot be written now, before work whose result
        would be lost (`add` analyses every photo first): a file on a read-only medium or one the user
        may not write, a server gone, one that takes no writes (a standby) or a role that may not."""
        if self.location.file is not None and (why := eng.read_only_reason(self.location.file)):
            raise ProjectUnavailable(f"Cannot write to {self.location.display}: {why}")
        with self._write() as conn:  # SQLite: takes and drops the write lock; a server: connects
            if conn.dialect.name == "postgresql" and (why := server_rights.write_problem(conn)):
                raise ProjectUnavailable(f"Cannot write to {self.location.display}: {why}")

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return eng.stored_version(conn)

    # ---- reading -------------------------------------------------------------------------------

    def assets(self) -> list[Asset]:
        with self._read() as conn:
            found = conn.execute(sa.select(T["assets"]).order_by(T["assets"].c.tag)).mappings()
            return [rows.to_asset(r) for r in found]

    def asset(self, tag: str) -> Asset | None:
        tag = as_typed(tag)  # as stored: a tag is stripped and composed when typed (check_tag)
        with self._read() as conn:
            row = conn.execute(sa.select(T["assets"]).where(T["assets"].c.tag == tag)).mappings().first()
            return None if row is None else rows.to_asset(row)

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
            query = query.where(a.c.tag == as_typed(asset_tag))
        with self._read() as conn:
            return [rows.to_inspection(r) for r in conn.execute(query).mappings()]

    def photos(self, inspection_id: int) -> list[StoredPhoto]:
        return self.photos_of([inspection_id])[inspection_id]

    def photos_of(self, inspection_ids: Iterable[int]) -> dict[int, list[StoredPhoto]]:
        """The photos of several inspections in one query (a server far away answers each query late)."""
        p, ids = T["photos"], list(inspection_ids)
        out: dict[int, list[StoredPhoto]] = {i: [] for i in ids}
        with self._read() as conn:
            found = conn.execute(sa.select(p).where(p.c.inspection_id.in_(ids)).order_by(p.c.id))
            for row in found.mappings():
                out[row["inspection_id"]].append(rows.to_photo(row))
        return out

    def photo(self, photo_id: int) -> StoredPhoto | None:
        found = self._photos_where(T["photos"].c.id == photo_id)
        return found[0] if found else None

    def photos_with_content(self, sha256: str) -> list[StoredPhoto]:
        """Every stored photo with this SHA-256, in whichever inspection (one query, not a listing)."""
        return self._photos_where(T["photos"].c.sha256 == sha256)

    def _photos_where(self, condition: sa.ColumnElement[bool]) -> list[StoredPhoto]:
        p = T["photos"]
        with self._read() as conn:
            found = conn.execute(sa.select(p).where(condition).order_by(p.c.id)).mappings()
            return [rows.to_photo(row) for row in found]

    def results(self, photo_id: int) -> list[StoredResult]:
        """Every stored analysis of the photo, oldest first."""
        r = T["results"]
        with self._read() as conn:
            found = conn.execute(sa.select(r).where(r.c.photo_id == photo_id).order_by(r.c.id)).mappings()
            return [rows.to_result(row) for row in found]

    def latest_result(self, photo_id: int) -> StoredResult | None:
        """The newest analysis of the photo: what opening it shows, with no model run."""
        r = T["results"]
        query = sa.select(r).where(r.c.photo_id == photo_id).order_by(r.c.id.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            return None if row is None else rows.to_result(row)

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
        with self._read() as conn:
            for row in conn.execute(query).mappings():
                out[row["inspection_id"]].append(rows.to_result(row))
        return out

    def asset_hashes(self, asset_tag: str) -> dict[str, tuple[_dt.date, str]]:
        """SHA-256 of every photo the asset's inspections hold -> (date, inspector) of the one holding it
        (empty for an asset not stored yet)."""
        a, i, p = T["assets"], T["inspections"], T["photos"]
        query = (
            sa.select(p.c.sha256, i.c.date, i.c.inspector)
            .join(i, i.c.id == p.c.inspection_id)
            .join(a, a.c.id == i.c.asset_id)
            .where(a.c.tag == as_typed(asset_tag))
        )
        with self._read() as conn:
            return {sha: (date, who) for sha, date, who in conn.execute(query)}

    def changes(self, asset_tag: str | None = None) -> list[Change]:
        """The change log (corrections and removals after the fact), oldest first; of one asset if given."""
        with self._read() as conn:
            return read_changes(conn, None if asset_tag is None else as_typed(asset_tag))

    def photo_file(self, photo: StoredPhoto, verify: bool = True) -> Path | None:
        """Where the photo is now: beside the project as stored relative to it, else its stored path; a
        file there of another size or SHA-256 is not it (`verify` False: sizes only, nothing read)."""
        return self.find_photo(photo, verify).path

    def find_photo(self, photo: StoredPhoto, verify: bool = True) -> PhotoLookup:
        """`photo_file`, with the places that hold another file now (to say the photo changed)."""
        return locate_photo(photo, self.location.folder, verify)

    def trend(self, asset_tag: str) -> Trend:
        """One row per inspection of the asset in date order, from each photo's newest result."""
        asset_tag = as_typed(asset_tag)
        if self.asset(asset_tag) is None:
            known = ", ".join(safe_text(a.tag) for a in self.assets()) or "none yet"  # any client wrote them
            where = safe_path(self.location.display)
            raise ProjectError(f"No asset {safe_repr(asset_tag)} in {where} (assets: {known})")
        inspections = self.inspections(asset_tag)
        return build_trend(asset_tag, inspections, self.latest_results(i.id for i in inspections))

    # ---- writing -------------------------------------------------------------------------------

    def ensure_asset(
        self, tag: str, by: str | None = None, shown: Asset | None = None, **fields: str
    ) -> Asset:
        """The asset with this tag, made if new; given `fields` (name, location, ...) are updated. `by`:
        who (the change log's; None: this computer's account) for this and every method below. `shown`:
        the asset as a window showed it: only the fields changed from it are written, here and below."""
        tag = check_tag(tag)
        with self._write() as conn:
            return rows.to_asset(rows.ensure_asset(conn, tag, fields, by, shown))

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
        asset_tag, inspector = check_tag(asset_tag), check_name(inspector, "The inspector's name")
        notes = check_typed(notes, "The inspection's notes", lines=True)
        check_date(date)
        with self._write() as conn:
            asset = rows.held_asset(conn, asset_tag)  # the photos its other inspections hold are read after
            inspection_id, created = rows.ensure_inspection(conn, asset["id"], date, inspector, notes)
            outcome = rows.add_photos(conn, asset, inspection_id, entries, self.location.folder)
            if outcome.refused and not outcome.added and not outcome.already_stored:
                # nothing of it to store: no inspection is made (the transaction rolls back)
                raise ProjectError(
                    "; ".join(f"{safe_path(path)}: not added: {why}" for path, why in outcome.refused)
                )
        return replace(outcome, created=created)

    def correct_inspection(
        self,
        inspection_id: int,
        asset_tag: str,
        date: _dt.date,
        inspector: str,
        notes: str,
        by: str | None = None,
        shown: Inspection | None = None,
    ) -> None:
        """Another asset (made if new), date, inspector or notes for the inspection: a tag or a date
        typed wrong, a name missing. An asset left with no inspection and no details goes. A date is
        checked when it changes (one stored before dates were checked may stay while notes are fixed)."""
        with self._write() as conn:
            inspector = check_name(inspector, "The inspector's name")
            notes = check_typed(notes, "The inspection's notes", lines=True)
            rows.correct_inspection(conn, inspection_id, asset_tag, date, inspector, notes, by, shown)

    def remove_inspection(self, inspection_id: int, by: str | None = None) -> int:
        """Remove the inspection, its photos' records and results from the project; the photo files stay
        where they are. Returns how many photos it held. An asset left with no inspection and no details
        goes too."""
        with self._write() as conn:
            return rows.remove_inspection(conn, inspection_id, by)

    def remove_photo(self, photo_id: int, by: str | None = None) -> None:
        """Take one photo (a wrong one added) out of its inspection with its results; the file stays.
        An inspection's only photo is refused: remove the inspection."""
        with self._write() as conn:
            rows.remove_photo(conn, photo_id, by)

    def add_result(
        self, photo_id: int, entry: PhotoEntry, review: ReviewMark | None = None, by: str | None = None
    ) -> int:
        """Another analysis of a stored photo (e.g. a newer model, or a signed mask's figures with its
        `review`, in the same transaction); the older ones are kept (one that overturns a signed result
        is logged, `by` whom)."""
        values = {} if review is None else review.values()
        with self._write() as conn:
            rows.hold_photo(conn, photo_id)
            return rows.insert_result(conn, photo_id, entry, by, **values)

    def set_review(self, result_id: int, review: ReviewMark) -> None:
        """Mark a result reviewed (the review issue): the inspector's mask file and who did it, when."""
        self._update_result(result_id, **review.values())

    def set_scale(self, result_id: int, mm_per_px: float | None) -> None:
        """The photo's scale for that result (the measurement issue); None removes it."""
        if mm_per_px is not None and not mm_per_px > 0:
            raise ProjectError(f"A scale must be a positive number of mm per pixel, got {mm_per_px}")
        self._update_result(result_id, scale_mm_per_px=mm_per_px)

    def _update_result(self, result_id: int, **values: Any) -> None:
        r = T["results"]
        with self._write() as conn:
            if conn.execute(r.update().where(r.c.id == result_id).values(**values)).rowcount != 1:
                raise ProjectError(f"No result {result_id} in {self.location.display}")

    def relocate(self, folder: str | os.PathLike[str], recursive: bool = True) -> list[StoredPhoto]:
        """Find photos that are no longer where stored in `folder`, by SHA-256; store their new place.
        Returns the photos found again (as stored now)."""
        from app.core.project.photos import best_match, find_by_hash

        with self._read() as conn:
            stored = [rows.to_photo(r) for r in conn.execute(sa.select(T["photos"])).mappings()]
        # by content: a file of another photo at its place (same size, other SHA-256) is not it
        missing = [s for s in stored if self.photo_file(s) is None]
        found = find_by_hash(Path(folder), {s.sha256: s.size for s in missing}, recursive)
        moved: list[tuple[StoredPhoto, Path]] = []
        taken: set[Path] = set()
        for photo in (s for s in missing if s.sha256 in found):  # copies: each to the photo of its name
            path = best_match(photo, found[photo.sha256], taken)
            taken.add(path)
            moved.append((photo, path))
        p = T["photos"]
        with self._write() as conn:
            for photo, path in moved:
                values = path_values(path, self.location.folder)
                conn.execute(p.update().where(p.c.id == photo.id).values(**values))
        return [self.photo(photo.id) for photo, _path in moved]  # type: ignore[misc]
