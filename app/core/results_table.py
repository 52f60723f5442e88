"""Merging a batch's rows into an existing `results.csv`: rows of other photos stay, ours are replaced.

A CSV is ours when its header is exactly the header this batch writes; one with another header (not
ours, or another model's classes) is refused, not replaced, unless the user asked to overwrite.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.analysis import FAILED_STATUS, NOT_ANALYSED, PhotoFailure, relative_path
from app.core.errors import ExportError
from app.core.export import (
    _FORMULA_START,
    RUN_SCHEMA,
    csv_row,
    display_path,
    escape_cell,
    failure_row,
    write_csv,
)
from app.core.palette import DEFAULT_CLASSES
from app.core.photos import named_like_photo
from app.core.text import path_from_display, visible_controls

log = logging.getLogger(__name__)

_MAX_CSV_BYTES = 512 << 20
_MAX_RUN_RECORD_BYTES = 16 << 20  # a run record is a few kB (its column names the bulk)


def write(
    path: Path,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    inputs: Iterable[Path],
    overwrite: bool,
    input_folders: Iterable[Path] = (),
    keep: Iterable[Path] = (),
    json_names: Mapping[str, Path] | None = None,
) -> tuple[Path | None, list[Sequence[str]], str | None]:
    """`rows` merged into the CSV at `path` and written: (path, the rows written, None), or
    (None, [], why) when it cannot be. `keep`, `json_names`: see `merge`."""
    try:
        merged = merge(path, columns, rows, inputs, overwrite, input_folders, keep, json_names)
        return write_csv(path, merged, columns, overwrite=True), merged, None
    except ExportError as exc:
        log.info("%s", exc)  # returned: the caller reports it (once)
        return None, [], str(exc)


def read_run_record(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The run record at `path` (where a run record goes), read once: (its data, None) when it is one
    Corroscope wrote; (None, None) when there is no file; (None, why) for a file that is not ours, which
    must not be replaced without overwrite."""
    refuse = f"{path.name} {{}}; it was not replaced (move it away, or ask to overwrite with --overwrite)"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, refuse.format(f"cannot be read ({exc.strerror or exc})")
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        return None, refuse.format("is a link or not a regular file, not a run record Corroscope wrote")
    if st.st_size > _MAX_RUN_RECORD_BYTES:
        return None, refuse.format("is too large to be a run record Corroscope wrote")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        data = None
    ours = (
        isinstance(data, dict)
        and data.get("schema") == RUN_SCHEMA
        and isinstance(data.get("csv"), str)
        and isinstance(data.get("columns"), list)
        and isinstance(data.get("photos"), dict)
    )
    return (data, None) if ours else (None, refuse.format("is not a run record Corroscope wrote"))


def input_folders_of(run: Mapping[str, Any] | None) -> list[Path]:
    """The input folders an earlier run record names (none without one): rows of earlier runs that stay
    in the table are relative to them."""
    folders = None if run is None else run.get("input_folders")
    return [Path(f) for f in folders if isinstance(f, str)] if isinstance(folders, list) else []


def class_names(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The class columns of a table of `records` from any models: the default classes first, then each
    other name in the order first seen. Rows written by `csv_row(record, class_names(...))` put every
    figure under its own class's column, whatever order or number of classes a model has."""
    names = dict.fromkeys(c.name for c in DEFAULT_CLASSES)
    for record in records:
        for c in record.get("classes") or ():
            if isinstance(c, Mapping) and isinstance(c.get("name"), str):
                names.setdefault(c["name"])
    return list(names)


def record_row(record: Mapping[str, Any], photo: Path, class_names: Sequence[str]) -> list[str]:
    """The row of a checked record; a failure row saying why, should one still not fit the table."""
    try:
        return csv_row(record, class_names)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return failure_row(
            PhotoFailure(photo, f"its record cannot be listed ({type(exc).__name__}: {exc})"), class_names
        )


def merge(
    path: Path,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    inputs: Iterable[Path],
    overwrite: bool = False,
    input_folders: Iterable[Path] = (),
    keep: Iterable[Path] = (),
    json_names: Mapping[str, Path] | None = None,
) -> list[Sequence[str]]:
    """`rows` (this batch's, in input order) merged into the CSV at `path`: an earlier row of one of
    `inputs` is replaced in place (or dropped when this batch has no row for it), except for the photos in
    `keep` (refused because their files were in the way: those files, and so their earlier rows, still
    hold); other rows are kept, except failure rows of photos gone from the scanned `input_folders`; rows
    of new photos follow. `json_names`: the records this batch writes -> the photo of each; an earlier
    row naming one is that photo's, whatever its `file` cell reads (named then through its folder, now as
    a file, or the other way); one naming another record is another set's (a same-named photo of another
    folder) and stays."""
    old = _read(path, columns, overwrite)
    if not old:
        return list(rows)
    at = columns.index("json_file") if "json_file" in columns else None
    folders = tuple(input_folders)
    keys = _keys(inputs, folders)
    ours = None
    if json_names is not None and at is not None:  # a record -> its photo's cell, as `keys` gives it
        ours = {escape_cell(n): keys.get(_cell(p), _cell(p)) for n, p in json_names.items()}
    kept = set(_keys(keep, folders).values())
    scanned = {_cell(Path(f).absolute()) for f in folders}

    def record_of(row: Sequence[str]) -> str:
        return row[at] if at is not None and len(row) > at else ""

    def identity(row: Sequence[str]) -> str:
        """A row's record when it names one (two photos of one name in two folders share the `file`
        cell, never the record), else its `file` cell (a failure row)."""
        return f"json:{record_of(row)}" if record_of(row) else f"file:{row[0] if row else ''}"

    mine = {identity(r): r for r in rows}
    by_file: dict[str, list[str]] = {}
    for r in rows:
        by_file.setdefault(r[0] if r else "", []).append(identity(r))
    out: list[Sequence[str]] = []
    used: set[str] = set()
    for row in old:
        named = record_of(row)
        # a record's row is its photo's, by the record; a failure row's, by its `file` cell
        key = ours.get(named) if named and ours is not None else _key_of(row[0] if row else "", keys)
        if key is None:
            if not named and _gone(row, columns, scanned):  # its failure no longer applies
                continue
            out.append(row)  # another photo's row: kept as it was
            continue
        if key in kept and f"file:{key}" not in used:
            out.append(row)
            used.add(f"file:{key}")  # this batch's failure row for it goes
            continue
        # its record's row; else this photo's row by its `file` cell (a failure then, or an old failure row)
        tries = [f"json:{named}"] if named else []
        new = next((i for i in [*tries, *by_file.get(key, [])] if i in mine and i not in used), None)
        if new is not None:
            out.append(mine[new])
            used.add(new)
    out.extend(r for r in rows if identity(r) not in used)
    return out


def _keys(inputs: Iterable[Path], input_folders: Sequence[Path] = ()) -> dict[str, str]:
    """Cell text (as given, resolved, or relative to an input folder) -> the cell this batch writes for
    that photo (relative to its input folder when it has one, as `csv_row` writes it)."""
    keys: dict[str, str] = {}
    for p in inputs:
        given = _cell(p)
        rel = relative_path(p, input_folders)
        cell = escape_cell(display_path(rel[1])) if rel is not None else given
        keys[cell] = keys[given] = keys[_resolved(display_path(p))] = cell
    return keys


def _gone(row: Sequence[str], columns: Sequence[str], scanned: set[str]) -> bool:
    """Whether `row` is a failure row (failed, or not analysed) of a photo inside one of the input folders
    this run scanned (`scanned`, as cells) that the scan would no longer take as a photo: that folder's
    scan would have found it, so its failure no longer applies."""
    if "input_folder" not in columns or len(row) != len(columns):
        return False
    folder, status = row[columns.index("input_folder")], row[columns.index("status")]
    if folder not in scanned or status not in (FAILED_STATUS, NOT_ANALYSED) or not row[0]:
        return False
    return not _a_photo(path_from_display(f"{folder}/{row[0]}"))


def _a_photo(path: Path) -> bool:
    """Whether a folder scan (`photos.find_images`) would take `path` as a photo: it is there (a dangling
    link or a FIFO too: they fail with their reason), not a folder (a photo deleted and a folder made under
    its name: "is a folder, not a photo" stayed for ever), not hidden, and named like a photo."""
    if not os.path.lexists(path):
        return False
    try:
        folder = path.is_dir()  # a link to a folder is a folder to the scan, which follows it
    except OSError:
        folder = False
    return not folder and named_like_photo(path)


def _cell(path: Path) -> str:
    """A path as the CSV writes it in a cell."""
    return escape_cell(display_path(path))


def _key_of(cell: str, keys: dict[str, str]) -> str | None:
    if cell in keys:
        return keys[cell]
    if (escaped := visible_controls(cell)) in keys:  # written raw by an earlier version
        return keys[escaped]
    text = cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell
    return keys.get(_resolved(text)) if text else None


def _resolved(text: str) -> str:
    try:
        return os.path.normcase(os.path.abspath(text))
    except (OSError, ValueError):
        return text


def _read(path: Path, columns: Sequence[str], overwrite: bool) -> list[list[str]]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ExportError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    refuse = f"{path} {{}}; it was not replaced (move it away, or choose another output folder)"
    if not os.path.isfile(path) or os.path.islink(path) or st.st_size > _MAX_CSV_BYTES:
        if overwrite:
            return []
        raise ExportError(refuse.format("is not a results table Corroscope wrote"))
    try:
        text = path.read_bytes().decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text, newline="")))
    except (OSError, ValueError, csv.Error) as exc:
        if overwrite:
            return []
        raise ExportError(refuse.format(f"cannot be read as a results table ({type(exc).__name__})")) from exc
    header = table[0] if table else []
    if not _earlier_header(header, columns):
        if overwrite:
            return []
        why = "has other columns (not written by Corroscope, or for a model with other classes)"
        raise ExportError(refuse.format(why))
    pad = [""] * (len(columns) - len(header))  # columns a later version added, at the end
    return [r + pad if len(r) == len(header) else r for r in table[1:] if r]


def _earlier_header(header: Sequence[str], columns: Sequence[str]) -> bool:
    """Whether `header` is this version's, or an earlier version's (ours: through `json_file`, the rest
    of this version's columns added at the end)."""
    n = len(header)
    return "json_file" in header and n <= len(columns) and list(header) == list(columns[:n])
