"""Exports: mask and overlay PNGs, one JSON per photo, one CSV for a batch; output names that stay put."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.core.analysis import PhotoFailure, PhotoFigures
from app.core.files import atomic_write_bytes, refuse_existing, write_png
from app.core.overlay import blend_overlay
from app.core.palette import DEFAULT_CLASSES, ClassInfo

RESULT_SCHEMA = 2  # 2: batch records name their photo (`source`), prove their files and are sealed
CSV_NAME = "results.csv"
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\udc80-\udcff]')  # with bytes that are not UTF-8
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


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that any UTF-8 writer can write: bytes of the name that are not UTF-8 (surrogate
    escapes on POSIX) become `\\xNN`, so CSV, JSON and the console never fail on them."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def output_stems(paths: Sequence[Path], max_len: int = 100) -> dict[Path, str]:
    """A distinct output stem per input, at most `max_len` bytes: its own stem, shortened, plus a short
    hash of its full path where two inputs (`a/pipe.jpg`, `b/pipe.jpg`, `a/pipe.png`, or two long names
    that share their first `max_len` bytes) would otherwise share one. Distinct after every shortening
    step, and compared as case-insensitive file systems compare names."""
    stems = {p: safe_stem(p.stem, max_len) for p in paths}
    counts = Counter(s.casefold() for s in stems.values())
    out: dict[Path, str] = {}
    taken: set[str] = set()
    for p, s in stems.items():
        if counts[s.casefold()] > 1:
            s = _with_digest(s, str(p.absolute()), max_len, 8)
        out[p] = s
    for p, s in out.items():  # a hashed stem may still meet another input's own stem
        length = 8
        while s.casefold() in taken:
            length += 4
            s = _with_digest(stems[p], f"{p.absolute()}#{length}", max_len, min(length, 40))
        taken.add(s.casefold())
        out[p] = s
    return out


def _with_digest(stem: str, key: str, max_len: int, length: int) -> str:
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:length]
    return f"{safe_stem(stem, max_len - length - 1)}_{digest}"


def encode_mask_png(labels: np.ndarray, classes: Sequence[ClassInfo]) -> bytes:
    """The label map as an indexed PNG whose palette is the classes' colours: any viewer (and
    `read_image`) shows the ground-truth RGB colours; a third of the data of an RGB PNG to compress."""
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"labels must be uint8 HxW, got {labels.dtype} {labels.shape}")
    img = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    palette = np.zeros((256, 3), dtype=np.uint8)
    for c in classes:
        palette[c.id] = c.color
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


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
    visible: Collection[int] | None = None,
    opacity: Mapping[int, float] | None = None,
    overwrite: bool = False,
) -> np.ndarray:
    """Blend and write the overlay; returns the overlay image (for reports)."""
    overlay = blend_overlay(rgb, labels, classes, visible, opacity)
    write_png(path, overlay, overwrite=overwrite)
    return overlay


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(float(v), digits)


def result_to_dict(result: PhotoFigures, outputs: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON record of one photo (no arrays); `outputs` names the files written with it, by kind."""
    from app import __version__

    a = result.assessment
    return {
        "schema": RESULT_SCHEMA,
        "file": display_path(result.path),
        "width": result.width,
        "height": result.height,
        "model_sha256": result.model_sha256,
        "provider": result.provider,
        "mode": result.mode.value,
        "classes": [c.to_json() for c in result.classes],
        "pixels": dict(result.stats.pixels),
        "percent": {k: _round(v, 6) for k, v in result.stats.percent.items()},
        "total_pixels": result.stats.total,
        "corroded_share": _round(result.stats.corroded_share, 6),
        "astm_d610": None if a.astm is None else {"value": a.astm.value, "label": a.astm.label},
        "iso_4628_3": None if a.iso is None else {"value": a.iso.value, "label": a.iso.label},
        "needs_review": a.needs_review,
        "review_reasons": list(a.reasons),
        "mean_confidence": _round(result.mean_confidence, 6),
        "seconds": round(result.seconds, 4),
        "outputs": None if outputs is None else dict(outputs),
        "corroscope_version": __version__,
    }


def write_result_json(
    path: str | os.PathLike[str],
    result: PhotoFigures | Mapping[str, Any],
    overwrite: bool = False,
    outputs: Mapping[str, str] | None = None,
) -> Path:
    record = result_to_dict(result, outputs) if isinstance(result, PhotoFigures) else dict(result)
    try:
        data = (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # text that is not Unicode (a name's raw bytes): JSON's own escapes
        data = (json.dumps(record, indent=2, ensure_ascii=True) + "\n").encode("ascii")
    return atomic_write_bytes(path, data, overwrite=overwrite)


def csv_columns(class_names: Iterable[str] = tuple(c.name for c in DEFAULT_CLASSES)) -> list[str]:
    return [
        "file",
        "width",
        "height",
        "model_sha256",
        "provider",
        *(f"{name}_percent" for name in class_names),
        "corroded_share",
        "astm_d610",
        "iso_4628_3",
        "needs_review",
        "review_reasons",
        "mean_confidence",
        "seconds",
        "status",
        "error",
    ]


CSV_COLUMNS = csv_columns()


def escape_cell(value: Any) -> str:
    """Text for a CSV cell; a leading = + - @ tab or CR gets a quote so spreadsheets do not run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _num(v: float | None, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def csv_row(record: PhotoFigures | Mapping[str, Any], class_names: Sequence[str] | None = None) -> list[str]:
    """One CSV row (escaped) from a result or its JSON record."""
    rec = result_to_dict(record) if isinstance(record, PhotoFigures) else record
    names = list(class_names) if class_names is not None else [c["name"] for c in rec["classes"]]
    astm, iso = rec.get("astm_d610"), rec.get("iso_4628_3")
    cells = [
        rec["file"],
        rec["width"],
        rec["height"],
        rec["model_sha256"],
        rec["provider"],
        *(_num(rec["percent"].get(n), 4) for n in names),
        _num(rec["corroded_share"], 4),
        "" if astm is None else astm["value"],
        "" if iso is None else iso["value"],
        "yes" if rec["needs_review"] else "no",
        "; ".join(rec["review_reasons"]),
        _num(rec["mean_confidence"], 4),
        _num(rec["seconds"], 3),
        "ok",
        "",
    ]
    return [escape_cell(c) for c in cells]


def failure_row(failure: PhotoFailure, class_names: Sequence[str]) -> list[str]:
    columns = csv_columns(class_names)
    row = [""] * len(columns)
    row[0] = display_path(failure.path)
    row[-2], row[-1] = "failed", failure.reason
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
