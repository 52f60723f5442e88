"""Exports: PNGs in the palette, JSON and CSV records, safe output names, formula-proof cells."""

from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from app.core.analysis import PhotoFailure, analyze_photo, failure_from
from app.core.errors import ImageReadError, OutputExistsError
from app.core.export import (
    CSV_COLUMNS,
    csv_row,
    escape_cell,
    failure_row,
    output_stems,
    result_to_dict,
    safe_stem,
    write_csv,
    write_mask_png,
    write_overlay_png,
    write_result_json,
)
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.overlay_style import OverlayStyle
from app.core.palette import DEFAULT_CLASSES, decode_mask
from app.core.photos import read_image
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths

NAMES = [c.name for c in DEFAULT_CLASSES]


@pytest.fixture
def photo(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rgb, labels = synthetic_pipe(seed=21, size=(60, 90))
    return write_png(tmp_path / "=rohr ü.png", rgb), labels


def test_mask_png_is_in_the_palette(tmp_path: Path) -> None:
    _, labels = synthetic_pipe(seed=1, size=(30, 40))
    path = write_mask_png(tmp_path / "m.png", labels, DEFAULT_CLASSES)
    ids, off = decode_mask(read_image(path))
    np.testing.assert_array_equal(ids, labels)
    assert off == 0
    with pytest.raises(OutputExistsError):
        write_mask_png(path, labels, DEFAULT_CLASSES)


def test_mask_png_bytes_are_those_of_the_copied_map() -> None:
    """The mask encodes over the label map's own memory: the same PNG bytes as from a copy of it, for a
    contiguous map and for a strided view, and the map is left as it was."""
    import io

    from PIL import Image

    from app.core.export import encode_mask_png

    labels = synthetic_pipe(seed=4, size=(300, 420))[1]
    for view in (labels, labels[::2, 1::3]):
        before = view.copy()
        img = Image.frombytes("P", (view.shape[1], view.shape[0]), view.tobytes())
        palette = np.zeros((256, 3), np.uint8)
        for c in DEFAULT_CLASSES:
            palette[c.id] = c.color
        img.putpalette(palette.ravel().tolist())
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=3, compress_type=zlib.Z_RLE, bits=2)  # ids 0..2: 2 bits
        assert encode_mask_png(view, DEFAULT_CLASSES) == buf.getvalue()
        np.testing.assert_array_equal(view, before)


def test_overlay_png_written_and_returned(tmp_path: Path) -> None:
    rgb, labels = synthetic_pipe(seed=1, size=(30, 40))
    overlay = write_overlay_png(tmp_path / "o.png", rgb, labels, DEFAULT_CLASSES, OverlayStyle.of({0}))
    np.testing.assert_array_equal(read_image(tmp_path / "o.png"), overlay)
    assert (overlay[labels == 2] == rgb[labels == 2]).all()


def test_result_json_and_csv_row_agree(
    tmp_path: Path, photo: tuple[Path, np.ndarray], tiny_model: SegmentationModel
) -> None:
    path, _truth = photo
    result = analyze_photo(tiny_model, path, None)
    names = {"mask": "r_mask.png", "overlay": "r_overlay.png"}
    json_path = write_result_json(tmp_path / "r.json", result, outputs=names)
    record = json.loads(json_path.read_text(encoding="utf-8"))
    assert record["file"] == str(path)
    assert record["width"] == 90 and record["height"] == 60
    assert record["model_sha256"] == tiny_model.sha256
    assert record["outputs"] == {"mask": "r_mask.png", "overlay": "r_overlay.png"}
    assert record == result_to_dict(result, names)
    assert csv_row(record) == csv_row(result_to_dict(result, names))
    row = dict(zip(CSV_COLUMNS, csv_row(record), strict=True))
    assert row["file"] == "'" + str(path) if str(path).startswith("=") else str(path)
    assert row["status"] == "ok" and row["error"] == ""
    assert row["provider"] == tiny_model.provider == "CPUExecutionProvider"  # the execution provider
    assert float(row["corrosion_percent"]) == pytest.approx(result.stats.percent["corrosion"], abs=1e-4)
    assert row["astm_d610"] == str(result.assessment.astm.value)
    assert row["iso_4628_3"] == result.assessment.iso.label and row["iso_4628_3"].startswith("Ri ")
    assert row["mask_file"] == "r_mask.png" and row["pdf_file"] == ""
    assert "model_sha256" not in row  # once in the companion results.json


def test_csv_escapes_formulas_and_reads_back(
    tmp_path: Path, tiny_model: SegmentationModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rgb, _ = synthetic_pipe(seed=2, size=(40, 40))
    path = write_png(Path("=HYPERLINK(x).png"), rgb)
    result = analyze_photo(tiny_model, path)
    failure = PhotoFailure(Path("-bad.jpg"), "@not an image")
    out = write_csv(tmp_path / "all.csv", [csv_row(result), failure_row(failure, NAMES)])
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0].keys()) == CSV_COLUMNS
    assert rows[0]["file"] == "'=HYPERLINK(x).png"
    assert rows[1]["file"] == "'-bad.jpg" and rows[1]["status"] == "failed"
    assert rows[1]["error"] == "'@not an image"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_escape_cell(text: str) -> None:
    assert escape_cell(text) == "'" + text
    assert escape_cell("pipe.jpg") == "pipe.jpg"
    assert escape_cell(None) == "" and escape_cell(3) == "3"


def test_a_leading_tab_or_cr_is_shown_as_an_escape_which_no_spreadsheet_runs() -> None:
    assert escape_cell("\tx") == "\\x09x" and escape_cell("\rx") == "\\x0dx"
    assert escape_cell("\t=1") == "\\x09=1"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pipe", "pipe"),
        ("Rohr ü 管道", "Rohr ü 管道"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "photo"),
        ("", "photo"),
        ("a\\b:c*d?e", "a_b_c_d_e"),
        ("CON", "_CON"),
        ("x" * 300, "x" * 100),
        ("\u202eRTLgnp.exe", "_RTLgnp.exe"),  # a bidi override: the name would read "exe.png..."
        ("pipe\u200b01", "pipe_01"),  # a zero-width space: two names that look the same
        ("a\x85b", "a_b"),  # a C1 control
    ],
)
def test_safe_stem(name: str, expected: str) -> None:
    assert safe_stem(name) == expected
    assert "/" not in safe_stem(name) and "\\" not in safe_stem(name)


def test_output_names_stay_in_the_folder_and_do_not_collide(tmp_path: Path) -> None:
    paths = [Path("a/pipe.jpg"), Path("b/pipe.jpg"), Path("a/pipe.png"), Path("c/other.jpg")]
    stems = output_stems(paths)
    assert len(set(stems.values())) == 4
    assert stems[Path("c/other.jpg")] == "other"
    assert all(s.startswith("pipe_") for p, s in stems.items() if p.stem == "pipe")
    assert output_stems(paths) == stems  # deterministic
    for s in stems.values():
        for out in output_paths(tmp_path, s).all():
            assert out.parent == tmp_path


def test_failure_reason_drops_the_repeated_file_name(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    assert (
        failure_from(path, ImageReadError(f"{path}: file is empty (0 bytes)")).reason
        == "file is empty (0 bytes)"
    )
    assert failure_from(path, RuntimeError("boom")).reason == "RuntimeError: boom"


@pytest.mark.parametrize("top", [0, 1, 2, 3, 4, 15, 16, 255])
def test_the_mask_png_at_fewer_bits_decodes_as_the_8_bit_one(top: int) -> None:
    """Packed to the fewest bits that hold its ids, the mask reads back as the 8-bit palette PNG it was:
    the same ids (Pillow), the same colours (Pillow and OpenCV), ids of no class included."""
    import io

    import cv2
    from PIL import Image

    from app.core.export import encode_mask_png, mask_png_bits
    from app.core.palette import ClassInfo

    rng = np.random.default_rng(top)
    labels = rng.integers(0, top + 1, (37, 53), dtype=np.uint8)
    labels[0, 0] = top
    classes = [ClassInfo(i, f"c{i}", (i * 7 % 256, 255 - i, i * 31 % 256)) for i in range(min(top, 20) + 1)]
    img = Image.frombytes("P", (53, 37), labels.tobytes())
    palette = np.zeros((256, 3), np.uint8)
    for c in classes[:-1]:  # the top id has no class: it shows black at any depth
        palette[c.id] = c.color
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    reference = buf.getvalue()
    packed = encode_mask_png(labels, classes[:-1])
    assert mask_png_bits(labels) == next(b for b in (1, 2, 4, 8) if top < 1 << b)
    with Image.open(io.BytesIO(packed)) as a, Image.open(io.BytesIO(reference)) as b:
        assert a.mode == b.mode == "P"
        np.testing.assert_array_equal(np.asarray(a), labels)
        np.testing.assert_array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))
    for flag in (cv2.IMREAD_UNCHANGED, cv2.IMREAD_COLOR):
        np.testing.assert_array_equal(
            cv2.imdecode(np.frombuffer(packed, np.uint8), flag),
            cv2.imdecode(np.frombuffer(reference, np.uint8), flag),
        )
