"""Batches in the real window: rows fill one by one, failures show their reason, cancel, CSV, stalls."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

from PySide6.QtCore import Qt

from app.core import figures
from app.core.analysis import analyze_photo
from app.core.model import SegmentationModel
from app.ui import questions
from app.ui.image_viewer_widget import BATCH_PLACEHOLDER_TEXT
from bench.heartbeat import Heartbeat
from tests.helpers.outputs import comparable
from tests.ui.conftest import TIMEOUT_MS, photo


def make_folder(tmp_path, n, size=(96, 128), broken=(), distinct=4):
    """`n` photos; after the first `distinct` ones, copies (making big synthetic photos is slow)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    made = [photo(folder, i, size)[0] for i in range(min(n, distinct))]
    for i in range(len(made), n):
        shutil.copyfile(made[i % len(made)], folder / f"pipe_{i:02d}.png")
    for name in broken:
        (folder / name).write_bytes(b"not an image at all")
    return folder


def run_batch(qtbot, window, folder):
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    return blocker.args[0]


def test_folder_fills_the_table_with_failures_and_reasons(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 4, broken=("zz_broken.png",))
    inserted = []
    window.batch_model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    message = run_batch(qtbot, window, folder)
    assert message == "Batch finished: 5 of 5 photos, 1 failed"
    assert inserted == [(i, i) for i in range(5)], "one row at a time"
    rows = window.batch_model.rows
    assert [r.path.name for r in rows] == [*(f"pipe_{i:02d}.png" for i in range(4)), "zz_broken.png"]
    failed = rows[-1]
    assert failed.failed and failed.reason
    m = window.batch_model
    assert m.data(m.index(4, 1)) == "failed"
    assert m.data(m.index(4, 8)) == failed.reason
    assert "zz_broken.png" not in failed.reason or len(failed.reason) > len("zz_broken.png")
    # figures in the table equal the core's for the same photo
    core = analyze_photo(SegmentationModel.load(window.controller.model.path, "cpu"), rows[2].path)
    assert rows[2].result.stats == core.stats
    assert m.data(m.index(2, 4)) == figures.grade_value_text(
        core.assessment, "astm", core.measures.distribution
    )
    assert m.data(m.index(2, 4)).startswith(core.assessment.astm.label)
    assert not hasattr(rows[2].result, "labels"), "the table keeps figures only"
    assert window.batch.progress.value() == 5
    assert window.batch.export_button.isEnabled()


def test_clicking_a_row_shows_that_photo(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 3)
    run_batch(qtbot, window, folder)
    assert not window.viewer.has_photo() and window.viewer.placeholder_text == BATCH_PLACEHOLDER_TEXT
    assert BATCH_PLACEHOLDER_TEXT.startswith("Pick a row of the batch below")  # not "Open a photo"
    index = window.batch.proxy.index(1, 0)
    rect = window.batch.table.visualRect(index)
    with qtbot.waitSignal(window.controller.photo_analyzed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(window.batch.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.controller.result.path == window.batch_model.row(1).path
    assert window.controller.result.stats == window.batch_model.row(1).result.stats


def test_batch_can_be_cancelled_keeps_the_rest_and_continues(qtbot, window, tmp_path):
    folder = make_folder(tmp_path, 16, size=(360, 480), distinct=2)
    window.controller.batch_row_ready.connect(lambda _row: window.batch.cancel_button.click())
    message = run_batch(qtbot, window, folder)
    assert message.startswith("Batch cancelled")
    model = window.batch_model
    done = model.done_count
    assert 1 <= done < 16
    assert model.rowCount() == 16, "the photos not analysed yet stay in the table"
    assert [r.path.name for r in model.rows] == [f"pipe_{i:02d}.png" for i in range(16)]
    assert [r.pending for r in model.rows] == [False] * done + [True] * (16 - done)
    assert model.data(model.index(15, 1)) == "not analysed" and not model.row(15).failed
    assert not window.controller.batch_running
    assert not window.batch.cancel_button.isEnabled()
    assert window.batch.continue_button.isVisible() and window.batch.continue_button.isEnabled()
    # the exports of a stopped batch say what it did not reach, so none looks complete
    from app.ui.batch_exports import start_batch_csv_export

    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_csv_export(window, tmp_path / "stopped.csv")
    with open(tmp_path / "stopped.csv", encoding="utf-8-sig", newline="") as fh:
        statuses = [r["status"] for r in csv.DictReader(fh)]
    assert statuses == ["ok"] * done + ["not analysed"] * (16 - done)
    run = json.loads((tmp_path / "stopped.json").read_text(encoding="utf-8"))
    assert run["photos"]["rows"] == 16 and run["photos"]["not_analysed"] == 16 - done
    assert run["photos"]["ok"] == done and run["photos"]["failed"] == 0
    # Continue analyses the rest into the same table
    window.controller.batch_row_ready.disconnect()
    window.controller.batch_row_ready.connect(window.batch_model.append)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS) as blocker:
        window.batch.continue_button.click()
    assert blocker.args[0] == f"Batch finished: {16 - done} of {16 - done} photos, 0 failed"
    assert window.batch.status_label.text() == "Batch finished: 16 of 16 photos, 0 failed"  # the whole batch
    assert model.rowCount() == model.done_count == 16 and not model.pending_paths()
    assert window.batch.progress.value() == window.batch.progress.maximum() == 16
    assert not window.batch.continue_button.isVisible()
    # the app keeps working after a cancel
    message = run_batch(qtbot, window, folder)
    assert message == "Batch finished: 16 of 16 photos, 0 failed"


def test_csv_export_of_the_table(qtbot, window, tmp_path):
    from app.ui.batch_exports import start_batch_csv_export

    folder = make_folder(tmp_path, 3, broken=("zz_bad.jpg",))
    run_batch(qtbot, window, folder)
    out = tmp_path / "table.csv"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_csv_export(window, out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "failed"]
    assert rows[3]["error"]
    first = window.batch_model.row(0).result
    assert float(rows[0]["corroded_share"]) == round(first.stats.corroded_share, 4)
    run = json.loads((tmp_path / "table.json").read_text(encoding="utf-8"))  # beside the CSV
    assert run["model"]["sha256"] == window.controller.model.sha256
    from app.core.model_accuracy import run_record_figures

    figures = run_record_figures(window.controller.model)  # what `analyze` writes: the model's accuracy
    assert {k: run["model"].get(k, "missing") for k in figures} == json.loads(json.dumps(figures))
    assert run["photos"] == {
        "rows": 4,
        "ok": 3,
        "failed": 1,
        "not_analysed": 0,
        "needs_review": run["photos"]["needs_review"],
    }
    assert rows[0]["file"] == window.batch_model.row(0).path.name  # relative to the photos' folder


def test_ui_thread_longest_stall_while_a_batch_runs(qtbot, window, tmp_path, record_property):
    """A 10 ms heartbeat on the UI thread; the longest gap between beats is recorded and bounded."""
    folder = make_folder(tmp_path, 16, size=(600, 800), distinct=2)
    with Heartbeat(10) as heart:
        t0 = time.perf_counter()
        message = run_batch(qtbot, window, folder)
        wall = time.perf_counter() - t0
    longest = heart.longest_ms / 1000.0
    report = {
        "photos": 16,
        "photo_size": "800x600",
        "batch_seconds": round(wall, 3),
        "heartbeats": len(heart.gaps_ms),
        "longest_ui_stall_s": longest,
        "heartbeat_interval_s": 0.010,
    }
    (tmp_path / "ui_stall.json").write_text(json.dumps(report, indent=2))
    record_property("longest_ui_stall_s", longest)  # also in --junitxml reports
    assert message == "Batch finished: 16 of 16 photos, 0 failed"
    assert len(heart.gaps_ms) > 5
    assert longest < 1.0, report


def _records(out) -> dict[str, dict]:
    """The per-photo records, without what differs from run to run (time taken, when, file times)."""
    return {
        p.name: comparable(json.loads(p.read_text("utf-8")))
        for p in sorted(out.glob("*.json"))
        if p.name != "results.json"
    }


def test_the_gui_batch_and_the_cli_run_one_pipeline_with_the_same_records(qtbot, window, tmp_path):
    from app.cli import main as cli_main

    folder = make_folder(tmp_path, 3, broken=("zz_broken.png",))
    gui_out, cli_out = tmp_path / "gui", tmp_path / "cli"
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.controller.run_batch_paths([folder], out_dir=gui_out)
    model = window.controller.model
    args = ["analyze", str(folder), "--out", str(cli_out), "--model", str(model.path), "--overlay-png"]
    assert cli_main(args) == 1  # the broken photo
    gui, cli = _records(gui_out), _records(cli_out)
    assert gui == cli and len(gui) == 3
    rows = {r.path.name: r.record for r in window.batch_model.rows if r.record is not None}
    assert {Path(k).stem for k in rows} == {Path(k).stem for k in gui}
    for name, record in rows.items():
        assert comparable(dict(record)) == gui[f"{Path(name).stem}.json"]

    def csv_rows(out):
        with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
            return [
                {k: v for k, v in r.items() if k not in ("seconds", "analysed_at")}
                for r in csv.DictReader(fh)
            ]

    assert csv_rows(gui_out) == csv_rows(cli_out)

    # the GUI batch resumes like the CLI: a second run skips every finished photo
    def mtimes():
        return {p.name: p.stat().st_mtime_ns for p in gui_out.glob("*.json") if p.name != "results.json"}

    before = mtimes()
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.controller.run_batch_paths([folder], out_dir=gui_out)
    assert mtimes() == before and len(before) == 3


def test_a_folder_opened_while_a_batch_runs_gets_a_table_of_its_own(qtbot, window, tmp_path, monkeypatch):
    """The replaced batch's queued rows, its "not reached" list and its end never reach the new batch's
    table, count, Continue button or CSV (a row of the first folder sat in the second's table, which
    then said "11 of 10 photos", and Continue resumed the first folder into it)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_folder(tmp_path / "a", 40)
    second = make_folder(tmp_path / "b", 3)
    asked = []
    monkeypatch.setattr(
        questions, "ask_replace_running_batch", lambda _w, done, total: not asked.append(total)
    )
    with qtbot.waitSignal(window.controller.batch_row_ready, timeout=TIMEOUT_MS):
        window.open_folder(first)
    message = run_batch(qtbot, window, second)
    assert asked == [40], "the running batch's rows go: asked first, as on quitting"
    qtbot.wait(300)  # anything the first batch still had queued arrives meanwhile
    assert message == "Batch finished: 3 of 3 photos, 0 failed"
    rows = window.batch_model.rows
    assert [r.path.parent for r in rows] == [second] * 3
    assert not window.batch.continue_button.isVisible()
    assert window.busy_label.text() == ""


def test_a_row_picked_while_a_batch_runs_stays_in_view(qtbot, window, tmp_path):
    """The table follows new rows until the user picks one: that row is then not scrolled away."""
    folder = make_folder(tmp_path, 40)
    window.resize(1100, 700)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
        qtbot.waitUntil(lambda: window.batch_model.rowCount() >= 3, timeout=TIMEOUT_MS)
        table = window.batch.table
        first = table.model().index(0, 0)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(first).center())
    qtbot.wait(100)
    assert table.currentIndex().row() == 0
    assert table.viewport().rect().contains(table.visualRect(first).center()), "the picked row is in view"


def test_continue_clicked_with_the_mouse_leaves_the_photo_on_screen_as_it_was(qtbot, window, tmp_path):
    """Continue took the focus with the click and lost it as it was disabled: the table got it, made its
    first row current, and that photo opened though the inspector had opened none."""
    folder = make_folder(tmp_path, 6, size=(360, 480), distinct=2)
    window.controller.batch_row_ready.connect(lambda _row: window.batch.cancel_button.click())
    assert run_batch(qtbot, window, folder).startswith("Batch cancelled")
    window.controller.batch_row_ready.disconnect()
    window.controller.batch_row_ready.connect(window.batch_model.append)
    window.activateWindow()
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(window.batch.continue_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert window.batch.current_path() is None and window.controller.current is None


def test_a_folder_opened_while_a_batch_runs_asks_and_keep_running_keeps_it(
    qtbot, window, tmp_path, monkeypatch
):
    """Another folder opened while a batch ran threw its rows away without a word (quitting asks)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_folder(tmp_path / "a", 40)
    second = make_folder(tmp_path / "b", 3)
    monkeypatch.setattr(questions, "ask_replace_running_batch", lambda _w, _done, _total: False)
    with qtbot.waitSignal(window.controller.batch_row_ready, timeout=TIMEOUT_MS):
        window.open_folder(first)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS * 4) as finished:
        window.open_folder(second)  # answered "Keep running"
        assert "The running batch goes on" in window.banner.text  # the status bar's room may be taken
    assert finished.args[0] == "Batch finished: 40 of 40 photos, 0 failed"
    assert {r.path.parent for r in window.batch_model.rows} == {first}
