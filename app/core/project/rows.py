"""Row-level helpers of the store: rows to records, and inserts that tolerate another writer's row."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from typing import Any

import sqlalchemy as sa

from app.core.errors import ProjectError
from app.core.project import changes
from app.core.project.photos import photo_values
from app.core.project.records import (
    AddOutcome,
    Asset,
    Inspection,
    PhotoEntry,
    StoredPhoto,
    StoredResult,
    check_asset_facts,
    check_date,
    check_tag,
)
from app.core.project.schema import REVIEWED, current_metadata, now_utc
from app.core.project.shown import RELOAD, changed
from app.core.record import PhotoRecord
from app.core.text import counted, safe_path, safe_text

_MD, T = current_metadata()
GONE = "The inspection is no longer in the project (removed meanwhile?); reload it"
PHOTO_GONE = "The photo is no longer in the project (removed meanwhile?); reload it"


def ensure_asset(
    conn: sa.Connection,
    tag: str,
    fields: dict[str, str],
    by: str | None = None,
    shown: Asset | None = None,
) -> sa.RowMapping:
    """The asset, made if new; its details in `fields` updated (an edit of an existing one is logged).
    `shown`: the asset as the user saw it; only what they changed is written (`shown.changed`)."""
    a = T["assets"]
    fields = check_asset_facts(fields)
    row = conn.execute(sa.select(a).where(a.c.tag == tag)).mappings().first()
    if shown is not None:
        if row is None or not lock_asset(conn, row["id"]):
            raise ProjectError(
                f"The asset {safe_text(tag)} is no longer in the project (removed meanwhile?); {RELOAD}"
            )
        row = conn.execute(sa.select(a).where(a.c.id == row["id"])).mappings().one()
        was = {name: getattr(shown, name) for name in fields}
        fields = changed(fields, was, fields, row, f"The asset {safe_text(tag)}")
    if row is None:
        insert_new(conn, a, dict(tag=tag, created_at=now_utc(), **fields))
    elif fields:
        conn.execute(a.update().where(a.c.id == row["id"]).values(**fields))
        if said := changes.asset_facts_text(row, fields):
            changes.log_change(conn, by, tag, f"asset {tag}", said)
    return conn.execute(sa.select(a).where(a.c.tag == tag)).mappings().one()


def ensure_inspection(
    conn: sa.Connection, asset_id: int, date: _dt.date, inspector: str, notes: str
) -> tuple[int, bool]:
    """(id, created) of the inspection (asset, date, inspector)."""
    i = T["inspections"]
    key = (i.c.asset_id == asset_id, i.c.date == date, i.c.inspector == inspector)
    found = conn.execute(sa.select(i.c.id).where(*key)).scalar()
    if found is not None:
        return int(found), False
    values = dict(asset_id=asset_id, date=date, inspector=inspector, notes=notes, created_at=now_utc())
    new_id = insert_new(conn, i, values)
    if new_id is None:  # another window made it a moment ago (PostgreSQL; SQLite writes one at a time)
        return int(conn.execute(sa.select(i.c.id).where(*key)).scalar_one()), False
    return new_id, True


def insert_new(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> int | None:
    """INSERT the row unless it breaks a unique key (then None, not an error that ends the
    transaction): two windows adding the same asset, inspection or photo at once both succeed."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    found = conn.execute(statement).scalar()
    return None if found is None else int(found)


def lock_asset(conn: sa.Connection, asset_id: int) -> bool:
    """Hold the asset's row until the transaction ends (PostgreSQL; a SQLite write holds the whole file):
    two writers checking which photos the asset holds then check one after the other. False: it is gone."""
    if conn.dialect.name != "postgresql":
        return True
    a = T["assets"]
    return conn.execute(sa.select(a.c.id).where(a.c.id == asset_id).with_for_update()).first() is not None


def held_asset(conn: sa.Connection, tag: str) -> sa.RowMapping:
    """The asset (made if new) with its row held (`lock_asset`): one another writer removed meanwhile,
    left bare by its last inspection going, is made again (else its new inspection would have no asset)."""
    asset = ensure_asset(conn, tag, {})
    if not lock_asset(conn, asset["id"]):
        asset = ensure_asset(conn, tag, {})
        lock_asset(conn, asset["id"])
    return asset


def lock_inspection(conn: sa.Connection, inspection_id: int) -> None:
    """Hold the inspection's row (PostgreSQL): two removals of its photos count what is left in turn."""
    if conn.dialect.name == "postgresql":
        i = T["inspections"]
        conn.execute(sa.select(i.c.id).where(i.c.id == inspection_id).with_for_update())


def held_text(asset_tag: str, date: _dt.date, inspector: str, photo: str = "this very photo") -> str:
    """Why a photo is refused for an asset: another of its inspections holds the same file content."""
    by = f" by {safe_text(inspector)}" if inspector else ""
    return (
        f"{photo} (the same file content) is stored in the inspection {safe_text(asset_tag)} "
        f"{date.isoformat()}{by}; in two inspections of one asset it would count twice in its trend"
    )


def held_elsewhere(
    conn: sa.Connection, asset_id: int, inspection_id: int, shas: Iterable[str]
) -> dict[str, sa.RowMapping]:
    """SHA-256 -> the photo (with its inspection's date and inspector) that another inspection of the
    asset holds with that content, read in the writing transaction (after `lock_asset`)."""
    i, p = T["inspections"], T["photos"]
    query = (
        sa.select(p.c.sha256, p.c.path, i.c.date, i.c.inspector)
        .join(i, i.c.id == p.c.inspection_id)
        .where(i.c.asset_id == asset_id, i.c.id != inspection_id, p.c.sha256.in_(list(set(shas))))
    )
    return {row["sha256"]: row for row in conn.execute(query).mappings()}


def add_photos(
    conn: sa.Connection,
    asset: sa.RowMapping,
    inspection_id: int,
    entries: Sequence[PhotoEntry],
    project_folder: Path | None,
) -> AddOutcome:
    """Store the photos with their results in the inspection: one it holds already is left as it is, one
    another inspection of the asset holds is refused (it would count twice in the asset's trend)."""
    p = T["photos"]
    held = set(conn.execute(sa.select(p.c.sha256).where(p.c.inspection_id == inspection_id)).scalars())
    elsewhere = held_elsewhere(conn, asset["id"], inspection_id, (e.file.sha256 for e in entries))
    added, already, refused = [], [], []
    for entry in entries:
        if (other := elsewhere.get(entry.file.sha256)) is not None:
            refused.append((entry.file.path, held_text(asset["tag"], other["date"], other["inspector"])))
            continue
        if entry.file.sha256 in held or not entry.record:
            already.append(entry.file.path)
            continue
        held.add(entry.file.sha256)
        photo_id = insert_new(conn, p, photo_values(entry, inspection_id, project_folder))
        if photo_id is None:  # another window stored it a moment ago
            already.append(entry.file.path)
            continue
        insert_result(conn, photo_id, entry)
        added.append(entry.file.path)
    return AddOutcome(int(inspection_id), False, tuple(added), tuple(already), tuple(refused))


def to_asset(r: sa.RowMapping) -> Asset:
    return Asset(r["id"], r["tag"], r["name"], r["location"], r["material"], r["notes"])


def to_inspection(r: sa.RowMapping) -> Inspection:
    return Inspection(
        r["id"], r["asset_id"], r["asset_tag"], r["date"], r["inspector"], r["notes"], int(r["photo_count"])
    )


def to_photo(r: sa.RowMapping) -> StoredPhoto:
    keys = ("id", "inspection_id", "path", "rel_path", "sha256", "size", "exif_time", "width", "height")
    return StoredPhoto(*(r[k] for k in keys))


def to_result(r: sa.RowMapping) -> StoredResult:
    fields = StoredResult.__dataclass_fields__
    return StoredResult(**{k: r[k] for k in fields})


def insert_result(
    conn: sa.Connection, photo_id: int, entry: PhotoEntry, by: str | None = None, **review: Any
) -> int:
    """The result row; `review`: the reviewed columns of a signed result (`ReviewMark.values()`). A model
    result that takes a signed one's place (a re-run) is logged: it overturns what a reviewer vouched for."""
    if not review:
        _log_overturned_review(conn, photo_id, entry, by)
    rec = entry.record
    record = rec if isinstance(rec, PhotoRecord) else PhotoRecord(rec)
    values = dict(
        photo_id=photo_id,
        model_name=entry.model_name,
        **record.store_fields(),
        record=dict(rec),
        created_at=now_utc(),
        **review,
    )
    return int(conn.execute(T["results"].insert().values(**values)).inserted_primary_key[0])


def hold_photo(conn: sa.Connection, photo_id: int) -> None:
    """Hold the stored photo (PostgreSQL) until the transaction ends, so a removal meanwhile waits for a
    new result of it; `ProjectError` when it was removed already (not the database's foreign-key error)."""
    p = T["photos"]
    held = sa.select(p.c.id).where(p.c.id == photo_id)
    if conn.dialect.name == "postgresql":
        held = held.with_for_update(key_share=True)
    if conn.execute(held).first() is None:
        raise ProjectError(PHOTO_GONE)


def _latest(conn: sa.Connection, photo_ids: Any) -> list[sa.RowMapping]:
    """The newest result of each photo of `photo_ids` (a select of ids)."""
    r = T["results"]
    newest = sa.select(sa.func.max(r.c.id)).where(r.c.photo_id.in_(photo_ids)).group_by(r.c.photo_id)
    return list(conn.execute(sa.select(r).where(r.c.id.in_(newest))).mappings())


def _log_overturned_review(conn: sa.Connection, photo_id: int, entry: PhotoEntry, by: str | None) -> None:
    (latest,) = _latest(conn, [photo_id]) or [None]
    if latest is None or latest["review_state"] != REVIEWED:
        return
    p = T["photos"]
    photo = conn.execute(sa.select(p.c.inspection_id, p.c.path).where(p.c.id == photo_id)).one()
    before = _inspection_before(conn, photo.inspection_id)
    subject = changes.inspection_subject(before)
    new = entry.record.get("corroded_share")
    when = f" on {latest['reviewed_at'][:10]}" if latest["reviewed_at"] else ""
    what = (
        f"photo {PurePath(photo.path).name}: the figures {latest['reviewed_by']} signed{when} "
        f"({changes.shares_text([latest['corroded_share']])}) replaced by the model's "
        f"({changes.shares_text([new])}, {entry.model_name})"
    )
    changes.log_change(conn, by, before["asset"], subject, what, inspection_id=photo.inspection_id)


def _inspection_before(conn: sa.Connection, inspection_id: int) -> sa.RowMapping:
    """The inspection with its asset's tag (as `asset`), as it is before a change; `ProjectError` if gone."""
    i, a = T["inspections"], T["assets"]
    query = (
        sa.select(i, a.c.tag.label("asset")).join(a, a.c.id == i.c.asset_id).where(i.c.id == inspection_id)
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ProjectError(GONE)
    return row


def correct_inspection(
    conn: sa.Connection,
    inspection_id: int,
    asset_tag: str,
    date: _dt.date,
    inspector: str,
    notes: str,
    by: str | None = None,
    shown: Inspection | None = None,
) -> None:
    """Give the inspection another asset (made if new), date, inspector or notes; refused if that asset
    already has an inspection on that date by that inspector (the two are not merged silently). An
    asset left with no inspection and no details (a tag typed wrong) goes. Logged with what it was.
    `shown`: the inspection as the user saw it; only what they changed is written (`shown.changed`)."""
    i = T["inspections"]
    tag = check_tag(asset_tag)
    # held in one order (asset, then inspection) by every writer: two never wait on each other
    lock_asset(conn, _inspection_before(conn, inspection_id)["asset_id"])
    lock_inspection(conn, inspection_id)
    before = _inspection_before(conn, inspection_id)
    if shown is not None:
        tag, date, inspector, notes = _over_stored(before, shown, tag, date, inspector, notes)
    if date != before["date"]:
        check_date(date)
    old_asset = before["asset_id"]
    asset = held_asset(conn, tag)
    if asset["id"] != old_asset:
        _refuse_photos_held(conn, inspection_id, asset)
    same = (i.c.asset_id == asset["id"], i.c.date == date, i.c.inspector == inspector)
    if conn.execute(sa.select(i.c.id).where(*same, i.c.id != inspection_id)).first() is not None:
        who = f" by {safe_text(inspector)}" if inspector else " without an inspector's name"
        tag = safe_text(asset["tag"])  # written by any client of a shared project
        raise ProjectError(f"{tag} already has an inspection on {date}{who}; choose another date or name")
    values = dict(asset_id=asset["id"], date=date, inspector=inspector, notes=notes)
    conn.execute(i.update().where(i.c.id == inspection_id).values(**values))
    after = dict(asset=asset["tag"], date=date, inspector=inspector, notes=notes)
    if said := changes.correction_text(before, after):
        subject = changes.inspection_subject(before)
        moved = before["asset"] if before["asset"] != asset["tag"] else None
        changes.log_change(
            conn, by, asset["tag"], subject, said, other_tag=moved, inspection_id=inspection_id
        )
    _drop_bare_asset(conn, int(old_asset))


def _over_stored(before: sa.RowMapping, shown: Inspection, *typed: Any) -> tuple[str, _dt.date, str, str]:
    """(asset tag, date, inspector, notes): as typed where the user changed what `shown` had, else as
    stored now (a colleague's change meanwhile stays); refused where both changed one field."""
    names = ("asset", "date", "inspector", "notes")
    was = dict(zip(names, (shown.asset_tag, shown.date, shown.inspector, shown.notes), strict=True))
    what = f"The {changes.inspection_subject(was)}"
    new = {n: before[n] for n in names} | changed(
        names, was, dict(zip(names, typed, strict=True)), before, what
    )
    return new["asset"], new["date"], new["inspector"], new["notes"]


def _refuse_photos_held(conn: sa.Connection, inspection_id: int, asset: sa.RowMapping) -> None:
    """`ProjectError` naming a photo of the inspection that an inspection of `asset` holds already (moved
    there, the one photo would count twice in its trend, which adding it is refused for); the asset is
    held (`held_asset`)."""
    p = T["photos"]
    mine = conn.execute(sa.select(p.c.sha256, p.c.path).where(p.c.inspection_id == inspection_id)).all()
    held = held_elsewhere(conn, asset["id"], inspection_id, (sha for sha, _path in mine))
    for sha, path in mine:
        if (other := held.get(sha)) is not None:
            photo = f"its photo {safe_path(PurePath(path).name)}"
            why = held_text(asset["tag"], other["date"], other["inspector"], photo)
            raise ProjectError(f"Not moved to {safe_text(asset['tag'])}: {why}")


def remove_inspection(conn: sa.Connection, inspection_id: int, by: str | None = None) -> int:
    """Delete the inspection with its photos' records and results (never the photo files); returns how
    many photos it held. An asset left with no inspection and no details goes too. Logged."""
    i, p, r = T["inspections"], T["photos"], T["results"]
    lock_asset(conn, _inspection_before(conn, inspection_id)["asset_id"])  # as a correction holds them
    before = _inspection_before(conn, inspection_id)
    asset_id = before["asset_id"]
    photo_ids = sa.select(p.c.id).where(p.c.inspection_id == inspection_id)
    count = len(conn.execute(photo_ids).all())
    subject = changes.inspection_subject(before)
    shares = [row["corroded_share"] for row in _latest(conn, photo_ids)]
    said = changes.removal_text(f"removed with its {counted(count, 'photo')}", shares)
    changes.log_change(conn, by, before["asset"], subject, said, inspection_id=inspection_id)
    # children first: the foreign keys cascade too, but a server's or file's schema need not rely on it
    conn.execute(r.delete().where(r.c.photo_id.in_(photo_ids)))
    conn.execute(p.delete().where(p.c.inspection_id == inspection_id))
    conn.execute(i.delete().where(i.c.id == inspection_id))
    _drop_bare_asset(conn, int(asset_id))
    return count


def remove_photo(conn: sa.Connection, photo_id: int, by: str | None = None) -> None:
    """Delete one photo's record and results from its inspection (never the file); the last photo of an
    inspection stays (removing the inspection is the way to empty it, and says what goes). Logged."""
    p, r = T["photos"], T["results"]
    query = sa.select(p.c.inspection_id, p.c.path).where(p.c.id == photo_id)
    photo = conn.execute(query).first()
    if photo is not None:  # another removal of a photo of it waits, then reads (and counts) again
        lock_inspection(conn, photo.inspection_id)
        photo = conn.execute(query).first()
    if photo is None:
        raise ProjectError(PHOTO_GONE)
    inspection_id = photo.inspection_id
    held = conn.execute(sa.select(sa.func.count(p.c.id)).where(p.c.inspection_id == inspection_id)).scalar()
    if held == 1:
        raise ProjectError("It is the inspection's only photo: remove the inspection instead")
    before = _inspection_before(conn, inspection_id)
    subject = changes.inspection_subject(before)
    name = PurePath(photo.path).name
    shares = [row["corroded_share"] for row in _latest(conn, [photo_id])]
    said = changes.removal_text(f"photo {name} removed with its results", shares)
    changes.log_change(conn, by, before["asset"], subject, said, inspection_id=inspection_id)
    conn.execute(r.delete().where(r.c.photo_id == photo_id))
    conn.execute(p.delete().where(p.c.id == photo_id))


def _drop_bare_asset(conn: sa.Connection, asset_id: int) -> None:
    """Delete the asset if it has no inspection and no details. Its row is held before the check: an
    inspection another writer is adding to it is seen once stored, not deleted by the cascade."""
    a, i = T["assets"], T["inspections"]
    if not lock_asset(conn, asset_id):
        return
    if conn.execute(sa.select(i.c.id).where(i.c.asset_id == asset_id).limit(1)).first() is not None:
        return
    bare = (a.c.name == "", a.c.location == "", a.c.material == "", a.c.notes == "")
    conn.execute(a.delete().where(a.c.id == asset_id, *bare))
