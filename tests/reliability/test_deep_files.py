"""JSON nested deeper than Python's parser goes ("[" * 200,000) in the files the app reads besides a
model's metadata: a reviewed mask's review record (it may come from a shared project), a photo's record,
a run record, a training manifest, the settings. Each is refused or set aside with a reason as any other
unreadable file is; none escapes as a RecursionError."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import ExportError, ReviewedMaskError
from app.core.export import encode_mask_png
from app.core.palette import DEFAULT_CLASSES
from app.core.record import PhotoRecord, RecordError
from app.core.results_table import read_run_record
from app.core.reviewed import PNG_KEY, read_reviewed_mask
from app.core.training_export import _read_manifest

DEEP = "[" * 200_000 + "]" * 200_000


def _mask_with_text(path: Path, text: str) -> Path:
    data = encode_mask_png(np.zeros((4, 4), np.uint8), DEFAULT_CLASSES)
    body = PNG_KEY.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode()
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    path.write_bytes(data[:33] + chunk + data[33:])
    return path


def test_a_mask_whose_review_record_is_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    mask = _mask_with_text(tmp_path / "p_mask.reviewed.png", DEEP)
    with pytest.raises(
        ReviewedMaskError, match=r"p_mask\.reviewed\.png: its review record is unreadable .*nested"
    ):
        read_reviewed_mask(mask)


def test_records_and_manifests_nested_too_deeply_are_not_ours(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    with pytest.raises(RecordError, match="not a Corroscope record"):
        PhotoRecord.read(deep)
    data, why = read_run_record(deep)
    assert data is None and why
    with pytest.raises(ExportError, match="cannot read the existing manifest"):
        _read_manifest(deep)


def test_settings_nested_too_deeply_read_as_none(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    from app.ui.settings import AppSettings

    settings = AppSettings.at(tmp_path / "s.ini")
    settings.qsettings.setValue("files/recent", DEEP)
    settings.qsettings.setValue("export/pdf", DEEP)
    assert settings.recent_files == []
    assert settings.export_folder("pdf") is None
