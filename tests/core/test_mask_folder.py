"""Telling a model's own exported mask from a correction, however its record's JSON is spaced."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from app.core.mask_folder import models_own_file
from app.core.reviewed import MODEL, PNG_KEY, ReviewState, encode_reviewed_png, labels_sha256


def _compact(data: bytes) -> bytes:
    """The same PNG with its review record re-written as compact JSON (no spaces), as another tool may."""
    key = PNG_KEY.encode("latin-1") + b"\x00\x00\x00\x00\x00"
    start = data.index(key) - 8
    length = struct.unpack(">I", data[start : start + 4])[0]
    record = json.loads(data[start + 8 + len(key) : start + 8 + length])
    body = key + json.dumps(record, separators=(",", ":")).encode()
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    return data[:start] + chunk + data[start + 12 + length :]


def test_a_models_own_mask_is_known_with_a_compact_record(tmp_path: Path) -> None:
    labels = np.zeros((40, 50), np.uint8)
    labels[10:30, 5:45] = 1
    review = ReviewState(MODEL, model_sha256="ab" * 32, labels_sha256=labels_sha256(labels))
    spaced, compact = tmp_path / "a_mask.png", tmp_path / "b_mask.png"
    spaced.write_bytes(encode_reviewed_png(labels, review=review))
    compact.write_bytes(_compact(spaced.read_bytes()))
    assert b'"source":"model"' in compact.read_bytes()
    assert models_own_file(spaced) and models_own_file(compact)
    changed = labels.copy()
    changed[0, 0] = 2  # pixels edited by another tool that kept the record: a correction
    edited = tmp_path / "c_mask.png"
    edited.write_bytes(_compact(encode_reviewed_png(changed, review=review)))
    assert not models_own_file(edited)
