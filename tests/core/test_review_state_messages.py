"""A review record that cannot be one is refused naming what is wrong with it."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import ReviewedMaskError
from app.core.reviewed import PNG_KEY, ReviewState, encode_reviewed_png, read_reviewed_mask


def test_a_reviewer_without_a_time_is_named_as_such() -> None:
    with pytest.raises(ValueError, match="review by 'Ann' has no review time"):
        ReviewState("reviewed", reviewed_by="Ann")


def test_an_edit_or_a_model_result_with_a_reviewer_says_what_it_is() -> None:
    with pytest.raises(ValueError, match="an unsigned edit has no reviewer"):
        ReviewState("edited", reviewed_by="Ann")
    with pytest.raises(ValueError, match="a model result has no reviewer"):
        ReviewState("model", reviewed_at="2024-05-01T10:00:00+00:00")


def _mask_with_record(tmp_path: Path, record: dict) -> Path:
    """A mask whose record was written by hand or by another tool."""
    data = encode_reviewed_png(np.ones((4, 4), np.uint8))
    body = PNG_KEY.encode() + b"\x00" * 5 + json.dumps(record).encode()
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    ihdr_end = 8 + 8 + 13 + 4
    path = tmp_path / "p_mask.reviewed.png"
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])
    return path


def test_a_signed_mask_without_its_time_is_refused_with_that_reason(tmp_path: Path) -> None:
    path = _mask_with_record(tmp_path, {"source": "reviewed", "reviewed_by": "Ann", "reviewed_at": ""})
    with pytest.raises(ReviewedMaskError, match="review by 'Ann' has no review time"):
        read_reviewed_mask(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reviewed_by", "\x1b[31mEvil\x1b[0m"),
        ("reviewed_by", "Ann\nInjected at 2024-01-01"),
        ("note", "ok\x1b[2J"),
    ],
)
def test_a_review_record_with_control_characters_is_refused(tmp_path: Path, field: str, value: str) -> None:
    """Terminal escapes or a fake second line would reach the CSV, the console and the PDF."""
    record = {
        "source": "reviewed",
        "reviewed_by": "Ann",
        "reviewed_at": "2024-05-01T10:00:00+00:00",
        field: value,
    }
    with pytest.raises(ReviewedMaskError, match="holds a control character"):
        read_reviewed_mask(_mask_with_record(tmp_path, record))
    assert ReviewState("reviewed", "Ann", "2024-05-01T10:00:00+00:00", "two\nlines").note == "two\nlines"
