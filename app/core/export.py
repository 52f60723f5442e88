"""Exports: mask and overlay PNGs, one JSON per photo, one CSV for a batch; output names that stay put."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.core.analysis import NOT_ANALYSED, PhotoFailure, PhotoFigures, relative_path, utc_timestamp
from app.core.files import atomic_write_bytes, refuse_existing, write_png
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.record import CSV_FIELDS, OUTPUT_KINDS, RECORD_SCHEMA, PhotoRecord, column_unit
from app.core.record_columns import HEADER_COLUMNS
from app.core.text import display_path, visible_controls

RESULT_SCHEMA = RECORD_SCHEMA  # the per-photo record's schema (`app.core.record`)
CSV_NAME = "results.csv"
# with bytes that are not UTF-8, C1 controls, and the bidi and zero-width marks that make an output's name
# read as another (U+202E before `gnp.exe` shows it as `exe.png`)
_UNSAFE = re.compile(
    r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\udc80-\udcff]'
)
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_stem(name: str, max_len: int = 100) -> str:
    """A file-name stem that cannot leave its folder: no separators, no `..`, no control or reserved names,
    no bytes that are not UTF-8; at most `max_len` bytes in UTF-8, so outputs and their temp files stay
    under the 255-byte name limit."""
    stem = unicodedata.normalize("NFC", name)
    stem = _UNSAFE.sub("_", stem).strip(" .")
    stem = stem[:max_len]
    while len(stem.encode("utf-8", "surrogatepass")) > max_len:  # e.g. CJK names: 3 bytes a character
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    if not stem:
        stem = "photo"
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem[: max_len - 1]
    return stem


def output_stems(paths: Sequence[Path], max_len: int = 100) -> dict[Path, str]:
    """A distinct output stem per input, at most `max_len` bytes: its own stem, shortened, plus a short
    hash of its full path where two inputs (`a/pipe.jpg`, `b/pipe.jpg`, `a/pipe.png`, or two long names
    that share their first `max_len` bytes) would otherwise share one. Distinct after every shortening
    step, and compared as case-insensitive file systems compare names."""
    unique = list(dict.fromkeys(paths))  # a path given twice is one input
    return dict(zip(unique, _distinct([(p.stem, str(p.absolute())) for p in unique], max_len), strict=True))


def distinct_stems(names: Sequence[str], max_len: int = 100) -> list[str]:
    """A file-name stem per name (an asset's tag), distinct as `output_stems` makes a batch's: "A/1" and
    "A_1", "Pipe" and "PIPE", or two long tags sharing their first `max_len` bytes each get a short hash
    of the whole name."""
    return _distinct([(name, name) for name in names], max_len)


def _distinct(items: Sequence[tuple[str, str]], max_len: int) -> list[str]:
    """Each (name, key)'s `safe_stem(name)`, with a short hash of `key` where stems would meet."""
    stems = [safe_stem(name, max_len) for name, _key in items]
    counts = Counter(s.casefold() for s in stems)
    out = [
        _with_digest(s, key, max_len, 8) if counts[s.casefold()] > 1 else s
        for s, (_n, key) in zip(stems, items, strict=True)
    ]
    taken: set[str] = set()
    for i, (own, (_name, key)) in enumerate(zip(stems, items, strict=True)):
        s, length = out[i], 8  # a hashed stem may still meet another name's own stem
        while s.casefold() in taken:
            length += 4
            s = _with_digest(own, f"{key}#{length}", max_len, min(length, 40))
        taken.add(s.casefold())
        out[i] = s
    return out


def stem_forms(path: Path, max_len: int = 100) -> tuple[str, str]:
    """The two stems `output_stems` gives a photo: its own, and the one with its path's short hash (when
    another input of the batch shares its name)."""
    own = safe_stem(path.stem, max_len)
    return own, _with_digest(own, str(path.absolute()), max_len, 8)


def _with_digest(stem: str, key: str, max_len: int, length: int) -> str:
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:length]
    return f"{safe_stem(stem, max_len - length - 1)}_{digest}"


def encode_mask_png(labels: np.ndarray, classes: Sequence[ClassInfo]) -> bytes:
    """The label map as an indexed PNG whose palette is the classes' colours: any viewer (and
    `read_image`) shows the ground-truth RGB colours; a third of the data of an RGB PNG to compress."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"labels must be uint8 HxW, got {labels.dtype} {labels.shape}")
    # Pillow reads the map where it is (no `tobytes()` copy, no second image of the map's size).
    labels = np.ascontiguousarray(labels)
    img = Image.frombuffer("P", (labels.shape[1], labels.shape[0]), labels, "raw", "P", 0, 1)
    palette = np.zeros((256, 3), dtype=np.uint8)
    for c in classes:
        palette[c.id] = c.color
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    # zlib's run-length strategy: a label map is runs of one id; about half the bytes, in the same time
    img.save(buf, format="PNG", compress_level=3, compress_type=zlib.Z_RLE, bits=mask_png_bits(labels))
    return buf.getvalue()


def mask_png_bits(labels: np.ndarray) -> int:
    """The fewest bits a pixel (1, 2, 4 or 8) that hold every id in `labels`: the mask decodes to the same
    ids and colours at any depth, and at 2 bits (three classes) it is encoded in 0.6-0.7x the time of 8
    (12 MP, docs/performance.md). The palette keeps the first 2**bits entries."""
    top = int(labels.max()) if labels.size else 0
    return next(b for b in (1, 2, 4) if top < 1 << b) if top < 16 else 8


def write_mask_png(
    path: str | os.PathLike[str], labels: np.ndarray, classes: Sequence[ClassInfo], overwrite: bool = False
) -> Path:
    """The label map as a PNG in the classes' colours (reads back as the ground-truth RGB mask)."""
    refuse_existing(path, overwrite=overwrite)  # before the encode
    return atomic_write_bytes(path, encode_mask_png(labels, classes), overwrite=overwrite)


def write_overlay_png(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[ClassInfo],
    style: OverlayStyle = EVERY_CLASS,
    overwrite: bool = False,
) -> np.ndarray:
    """Blend and write the overlay in `style`; returns the overlay image (for reports)."""
    overlay = style.blend(rgb, labels, classes)
    write_png(path, overlay, overwrite=overwrite)
    return overlay


def result_to_dict(
    result: PhotoFigures, outputs: Mapping[str, str] | None = None, input_folders: Iterable[Path] = ()
) -> dict[str, Any]:
    """The JSON record of one photo as data (`PhotoRecord.from_result(...).to_json()`)."""
    return PhotoRecord.from_result(result, outputs, input_folders).to_json()


def write_result_json(
    path: str | os.PathLike[str],
    result: PhotoFigures | Mapping[str, Any],
    overwrite: bool = False,
    outputs: Mapping[str, str] | None = None,
) -> Path:
    """A photo's record as its JSON file (atomically)."""
    if isinstance(result, PhotoFigures):
        record = PhotoRecord.from_result(result, outputs)
    else:
        record = result if isinstance(result, PhotoRecord) else PhotoRecord(result)
    return atomic_write_bytes(path, record.to_bytes(), overwrite=overwrite)


_BASE_TAIL = ("corroded_share", "astm_d610", "iso_4628_3", "needs_review", "review_reasons")
# Columns added after the first release's, at the end, so positional readers keep working.
# Where the figures came from (docs/design.md section 10): `model`, `edited` (changed, not signed), or
# `reviewed` with who and when.
REVIEW_COLUMNS = ("source", "reviewed_by", "reviewed_at")
_ADDED = (
    *CSV_FIELDS,
    "analysed_at",
    "mode",
    "model_file",
    *(f"{k}_file" for k in OUTPUT_KINDS),
    *REVIEW_COLUMNS,
    "model_accuracy",  # the model's typical error, one line (app.core.model_accuracy)
    "reviewed_mask_file",  # the signed (or edited) mask the figures came from, for the audit
    # the input folder `file` is relative to (empty for a photo named directly): two folders' IMG_0001.jpg
    # are two rows of one `file`
    "input_folder",
    # the report header it was analysed under (`--asset-id`, `--location`, ...): a row names its asset
    *HEADER_COLUMNS,
)


def escape_cell(value: Any) -> str:
    """Text for a CSV cell: controls and bidi overrides escaped (`\\x1b`: a terminal showing the file never
    runs them); a leading = + - @ tab or CR gets a quote so spreadsheets do not run it."""
    text = visible_controls("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_columns(class_names: Iterable[str] = tuple(c.name for c in DEFAULT_CLASSES)) -> list[str]:
    """The header of `results.csv` (the GUI's batch CSV has the same); docs/user-guide.md explains each."""
    return [escape_cell(c) for c in _record_columns(class_names)]  # class names come from the model


def _record_columns(class_names: Iterable[str]) -> list[str]:
    return [
        "file",
        "width",
        "height",
        "provider",
        *(f"{name}_percent" for name in class_names),
        *_BASE_TAIL,
        "mean_confidence",
        "seconds",
        "status",
        "error",
        *_ADDED,
    ]


CSV_COLUMNS = csv_columns()


def csv_row(
    record: PhotoFigures | Mapping[str, Any],
    class_names: Sequence[str] | None = None,
    input_folders: Iterable[Path] = (),
) -> list[str]:
    """One CSV row (escaped) from a result or its record; `file` is the photo's path relative to the
    input folder it came from (the record's, or one of `input_folders`), else the path as given."""
    if isinstance(record, PhotoFigures):
        rec = PhotoRecord.from_result(record)
    else:
        rec = record if isinstance(record, PhotoRecord) else PhotoRecord(record)
    values = rec.csv_values(class_names)
    if rec.get("relative_path") is None and input_folders:
        found = relative_path(Path(rec["file"]), input_folders)
        if found is not None:
            values["file"], values["input_folder"] = display_path(found[1]), display_path(found[0])
    names = list(class_names) if class_names is not None else [c["name"] for c in rec["classes"]]
    return [escape_cell(values[c]) for c in _record_columns(names)]


def failure_row(
    failure: PhotoFailure, class_names: Sequence[str], input_folders: Iterable[Path] = ()
) -> list[str]:
    """The row of a photo without figures: its file, `status` (failed, or not analysed) and the reason."""
    columns = csv_columns(class_names)
    row = [""] * len(columns)
    found = relative_path(failure.path, input_folders)
    rel = failure.relative_path if found is None else display_path(found[1])
    row[0] = rel or display_path(failure.path)
    if found is not None:
        row[columns.index("input_folder")] = display_path(found[0])
    row[columns.index("status")], row[columns.index("error")] = failure.status, failure.reason
    return [escape_cell(c) for c in row]


def csv_text(rows: Iterable[Sequence[str]], columns: Sequence[str]) -> str:
    # CRLF (RFC 4180): the csv module quotes only cells holding a character of the line terminator,
    # so with "\n" alone a CR in a file name (legal on Linux) went out unquoted and split the row.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(
    path: str | os.PathLike[str],
    rows: Iterable[Sequence[str]],
    columns: Sequence[str] = CSV_COLUMNS,
    overwrite: bool = False,
) -> Path:
    """UTF-8 with BOM, so spreadsheet programs read non-ASCII file names right."""
    data = csv_text(rows, columns).encode("utf-8-sig", "backslashreplace")  # never fails on a name's bytes
    return atomic_write_bytes(path, data, overwrite=overwrite)


RUN_SCHEMA = 1


def companion_path(csv_path: str | os.PathLike[str]) -> Path:
    """The run-wide facts of a CSV go beside it, same name: `results.csv` -> `results.json`."""
    return Path(csv_path).with_suffix(".json")


def versions() -> dict[str, str]:
    """The versions that shaped the figures: Corroscope, ONNX Runtime, NumPy, OpenCV, Python."""
    import platform

    import cv2
    import onnxruntime

    from app import __version__

    return {
        "corroscope": __version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "python": platform.python_version(),
    }


def run_record(
    csv_path: Path,
    rows: Sequence[Sequence[str]],
    columns: Sequence[str],
    model: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    input_folders: Iterable[Path] = (),
) -> dict[str, Any]:
    """The companion JSON of a CSV: what holds for every row (the model's SHA-256 once, versions, the
    options) and counts of the rows; `model` has `file`, `sha256`, `provider`, `mode`."""
    status, review = columns.index("status"), columns.index("needs_review")
    ok = [r for r in rows if r[status] == "ok"]
    not_analysed = sum(r[status] == NOT_ANALYSED for r in rows)
    return {
        "schema": RUN_SCHEMA,
        "csv": Path(csv_path).name,
        "written_at": utc_timestamp(),
        "model": dict(model),
        "versions": versions(),
        "options": None if options is None else dict(options),
        "input_folders": [str(Path(f).absolute()) for f in input_folders],
        "photos": {
            "rows": len(rows),
            "ok": len(ok),
            "failed": len(rows) - len(ok) - not_analysed,
            "not_analysed": not_analysed,  # a stopped batch's photos it never reached
            "needs_review": sum(r[review] == "yes" for r in ok),
        },
        "columns": list(columns),
        "column_units": {c: column_unit(c) for c in columns if column_unit(c)},
    }


def models_used(entries: Iterable[PhotoFigures | Mapping[str, Any] | PhotoFailure]) -> list[dict[str, Any]]:
    """Each model that made some of `entries`' figures (results or records), in order of first use:
    `file`, `sha256`, `accuracy` (its typical-error line) and `photos` (how many it made)."""
    used: dict[str, dict[str, Any]] = {}
    for e in entries:
        if isinstance(e, PhotoFailure):
            continue  # made by no model
        if isinstance(e, PhotoFigures):
            sha, file, accuracy = e.model_sha256, e.model_file, e.model_accuracy
        else:
            sha, file, accuracy = e.get("model_sha256"), e.get("model_file"), e.get("model_accuracy")
        use = used.setdefault(str(sha), {"file": file, "sha256": sha, "accuracy": accuracy, "photos": 0})
        use["photos"] += 1
    return list(used.values())


def write_run_json(path: str | os.PathLike[str], record: Mapping[str, Any], overwrite: bool = False) -> Path:
    text = json.dumps(dict(record), indent=2, ensure_ascii=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)
