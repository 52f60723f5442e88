"""A batch over a folder and its subfolders names each photo by its path inside the batch's folder, as
results.csv does: the table's Photo column (sorting too), the batch PDF's worst-photos table, cards and
table pages, its failed and not-analysed lists, and a photo PDF's heading. `ORI_000.png` and
`sub2/ORI_000.png` were both "ORI_000.png"."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.core.analysis import PhotoFailure, analyze_rgb
from app.core.batch_inputs import photo_name
from app.core.grading import GradeScale
from app.core.overlay import blend_overlay
from app.core.record import PhotoRecord
from app.core.synthetic import synthetic_pipe
from app.report import BatchReportOptions, render_batch_pdf, render_pdf_report
from app.ui.batch_table import COLUMNS, SORT_ROLE, BatchRow, BatchTableModel
from tests.ui.test_report_content import pages_text


def test_photo_name_is_the_path_inside_the_batch_folder(tmp_path: Path) -> None:
    assert photo_name(tmp_path / "sub2" / "ORI_000.png", tmp_path) == "sub2/ORI_000.png"
    assert photo_name(tmp_path / "ORI_000.png", tmp_path) == "ORI_000.png"
    assert photo_name(tmp_path / "ORI_000.png", None) == "ORI_000.png"
    assert photo_name(Path("/elsewhere/ORI_000.png"), tmp_path) == "ORI_000.png"  # not inside: its name


def test_the_table_names_two_folders_photos_of_one_name_apart(qapp, tmp_path: Path, tiny_model) -> None:
    rgb, _ = synthetic_pipe(1, (60, 80))
    top, sub = tmp_path / "ORI_000.png", tmp_path / "sub2" / "ORI_000.png"
    model = BatchTableModel()
    # the subfolder's row first: the names already shown follow once the top folder's photo arrives
    model.append(BatchRow(sub, analyze_rgb(tiny_model, rgb, sub).figures()))
    model.append(BatchRow(top, analyze_rgb(tiny_model, rgb, top).figures()))
    model.append(BatchRow(tmp_path / "sub2" / "dup_30.png", None, "file not found"))
    model.add_pending([tmp_path / "sub3" / "ORI_000.png"])
    photo = COLUMNS.index("Photo")
    shown = [model.data(model.index(i, photo)) for i in range(4)]
    assert shown == ["sub2/ORI_000.png", "ORI_000.png", "sub2/dup_30.png", "sub3/ORI_000.png"]
    keys = [model.data(model.index(i, photo), SORT_ROLE) for i in range(4)]
    assert len(set(keys)) == 4
    tooltip = model.data(model.index(0, photo), role=3)  # ToolTipRole: the whole path
    assert str(sub) in tooltip
    model.clear()
    model.append(BatchRow(sub, None, "bad"))
    assert model.data(model.index(0, photo)) == "ORI_000.png", "a batch of that subfolder alone"


def test_the_batch_pdf_names_photos_by_their_path_inside_the_batch_folder(qapp, tiny_model) -> None:
    folder = Path("site-7")
    results = []
    for seed, path in ((1, folder / "ORI_000.png"), (2, folder / "sub2" / "ORI_000.png")):
        rgb, _ = synthetic_pipe(seed, (90, 120), rust=0.1 * seed)
        results.append(dataclasses.replace(analyze_rgb(tiny_model, rgb, path), labels=None, confidence=None))
    records = [
        *results,
        PhotoFailure(folder / "sub2" / "dup_30.png", "file not found"),
        PhotoFailure.not_reached(folder / "sub3" / "later_01.png"),
    ]
    options = BatchReportOptions(folder=folder)
    text = " ".join(pages_text(render_batch_pdf(records, tiny_model, GradeScale.ASTM_D610, options)))
    # the worst-photos table, the cards and the table of every photo
    assert text.count("sub2/ORI_000.png") >= 3, text
    assert "sub2/dup_30.png file not found" in text
    assert "Photos not analysed: the batch was stopped before them sub3/later_01.png" in text


def test_a_photo_pdf_from_a_batch_heads_with_the_path_inside_its_folder(qapp, tmp_path, tiny_model) -> None:
    rgb, _ = synthetic_pipe(3, (90, 120))
    result = analyze_rgb(tiny_model, rgb, tmp_path / "sub2" / "ORI_000.png")
    overlay = blend_overlay(rgb, result.labels, result.classes)
    record = PhotoRecord.from_result(result, None, [tmp_path])
    text = pages_text(render_pdf_report(result, overlay, rgb, tiny_model, review=record))[0]
    assert "sub2/ORI_000.png" in text
    alone = pages_text(render_pdf_report(result, overlay, rgb, tiny_model))[0]
    assert "ORI_000.png" in alone and "sub2/ORI_000.png" not in alone


def test_a_folder_whose_photos_all_lie_in_one_subfolder_names_them_inside_the_folder_opened(
    qtbot, window, tmp_path: Path
) -> None:
    """Open folder ▸ Include subfolders on a folder holding only sub2/: the table and its CSV named the
    photos `ORI_000.png` inside sub2, where `analyze FOLDER --recursive` writes `sub2/ORI_000.png`."""
    from tests.ui.conftest import TIMEOUT_MS, photo

    (tmp_path / "site" / "sub2").mkdir(parents=True)
    for seed in (1, 2):
        photo(tmp_path / "site" / "sub2", seed)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.controller.run_batch_paths([tmp_path / "site"], recursive=True)
    photo_column = COLUMNS.index("Photo")
    model = window.batch_model
    shown = [model.data(model.index(i, photo_column)) for i in range(model.rowCount())]
    assert shown == ["sub2/pipe_01.png", "sub2/pipe_02.png"]
    assert model.folder == tmp_path / "site"
    import csv

    from app.ui.batch_exports import batch_report_options, start_batch_csv_export

    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):  # its CSV names them so too
        start_batch_csv_export(window, tmp_path / "batch.csv")
    with open(tmp_path / "batch.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["input_folder"]) for r in rows] == [
        ("sub2/pipe_01.png", str(tmp_path / "site")),
        ("sub2/pipe_02.png", str(tmp_path / "site")),
    ]
    assert batch_report_options(window).folder == tmp_path / "site"  # and the batch report
