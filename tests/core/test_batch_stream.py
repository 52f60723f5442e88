"""One input rule and one streaming batch for every face: `select_inputs`, `iter_batch` (and the reduce
stage that writes the run record from the rows in memory), the PDF exporter registered by the
composition roots, CUDA probed once, and the import contract that keeps core's building blocks below
the orchestrators."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import app.core
from app.core import exporters
from app.core import model as model_module
from app.core.batch_inputs import not_photos_line, photos_in
from app.core.export import CSV_NAME, companion_path, csv_columns
from app.core.files import write_png
from app.core.model import SegmentationModel
from app.core.pipeline import BatchOptions, iter_batch, plan_batch, run_batch, select_inputs, write_run_record
from app.core.reviewed import EDITED_SUFFIX, REVIEWED_SUFFIX
from app.core.synthetic import synthetic_pipe

ROOT = Path(__file__).resolve().parents[2]


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_png(folder / f"p{i}.png", synthetic_pipe(seed=i, size=(30, 40))[0]) for i in range(n)]


def test_select_inputs_is_the_one_rule_of_what_a_photo_is(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    photos = _photos(folder, 2)
    reviewed = write_png(folder / f"p0{REVIEWED_SUFFIX}", synthetic_pipe(seed=0, size=(30, 40))[1] * 0)
    edited = write_png(folder / f"p1{EDITED_SUFFIX}", synthetic_pipe(seed=1, size=(30, 40))[1] * 0)
    out = folder / "out"
    run_batch(tiny_model, photos, out)
    (out / "p1.json").unlink()  # p1's mask and overlay are orphans now: still ours by their mark
    outside = tmp_path / "copied_overlay.png"
    outside.write_bytes((out / "p1_overlay.png").read_bytes())  # our mark, outside the output folder
    chosen = select_inputs([folder, outside], out, recursive=True)
    assert chosen.photos == (*photos, outside)  # a file named is a photo, whatever it carries
    assert set(chosen.ours) == {
        out / "p0_mask.png",
        out / "p0_overlay.png",
        out / "p1_mask.png",
        out / "p1_overlay.png",
    }
    assert chosen.corrections == (reviewed, edited)  # signed or not, a corrected mask is no photo
    assert not_photos_line(chosen) == (
        "Left out 2 corrected masks (*_mask.reviewed.png, *_mask.edited.png) and 4 files Corroscope wrote "
        "earlier (masks, overlays): no photos."
    )
    assert photos_in([folder], recursive=True) == [*photos]
    named = select_inputs([reviewed, photos[0]])  # named too (a shell's *.png): a mask is no photo
    assert named.photos == (photos[0],) and named.corrections == (reviewed,)
    shouting = reviewed.rename(reviewed.with_name("p0_mask.Reviewed.PNG"))
    scan = select_inputs([folder])  # in any letter case
    assert shouting in scan.corrections and shouting not in scan.photos
    # the same folder analysed into another output folder, or in the window (no output folder): our
    # masks and overlays beside the photos are still no photos
    for elsewhere in (tmp_path / "other-out", None):
        again = select_inputs([folder], elsewhere, recursive=True)
        assert again.photos == tuple(photos)
        assert {p.name for p in again.ours} >= {
            "p0_mask.png",
            "p0_overlay.png",
            "p1_mask.png",
            "p1_overlay.png",
        }


def _drain(stream) -> tuple[list, object]:
    """Every outcome `iter_batch` yields, and the summary it returns."""
    yielded = []
    while True:
        try:
            yielded.append(next(stream))
        except StopIteration as end:
            return yielded, end.value


def test_iter_batch_streams_outcomes_and_returns_the_summary(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    photos = _photos(tmp_path / "in", 3)
    seen, summary = _drain(iter_batch(tiny_model, photos, tmp_path / "out", BatchOptions()))
    assert [o.path for o in seen] == photos and summary.done == tuple(photos)
    assert summary.csv_path == tmp_path / "out" / CSV_NAME and summary.csv_error is None


def test_a_batch_closed_early_still_writes_its_table_and_run_record(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    photos = _photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    batch = iter_batch(tiny_model, photos, out, BatchOptions())
    first = next(batch)
    batch.close()  # the window's worker cancelled between photos
    rows = (out / CSV_NAME).read_text("utf-8-sig").splitlines()
    assert len(rows) == 4 and rows[1].startswith(str(first.path))
    assert all(",not analysed," in row for row in rows[2:])  # the two it never reached, said so
    run = json.loads(companion_path(out / CSV_NAME).read_text("utf-8"))
    counts = {"rows": 3, "ok": 1, "failed": 0, "not_analysed": 2}
    assert run["photos"] == {**counts, "needs_review": run["photos"]["needs_review"]}
    assert not (out / ".corroscope.lock").exists()  # the folder's lock is released


def test_the_run_record_is_built_from_the_rows_in_memory(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    options = BatchOptions(exports=())
    plan = plan_batch([], out, options, tiny_model)
    columns = csv_columns(plan.class_names)
    ok = ["x.png"] + [""] * (len(columns) - 1)
    ok[columns.index("status")], ok[columns.index("needs_review")] = "ok", "yes"
    csv_path = out / CSV_NAME  # never written: the record does not read it back
    assert write_run_record(csv_path, [ok, ok], columns, plan, options) is None
    run = json.loads(companion_path(csv_path).read_text("utf-8"))
    assert run["photos"] == {"rows": 2, "ok": 2, "failed": 0, "not_analysed": 0, "needs_review": 2}
    assert run["model"]["provider"] == tiny_model.provider == "CPUExecutionProvider"


def test_core_never_loads_the_report_itself() -> None:
    code = (
        "import sys\n"
        "from app.core import exporters, errors\n"
        "try:\n"
        "    exporters.get('pdf')\n"
        "except errors.ExportError:\n"
        "    print('unknown', 'app.report' in sys.modules)\n"
        "import app.report\n"
        "app.report.register_exporter()\n"
        "print(exporters.get('pdf').suffix)\n"
    )
    env = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["unknown", "False", ".pdf"]


def test_a_worker_process_adopts_the_exporters_it_is_sent() -> None:
    text = exporters.Exporter(
        "text-adopt", "Share as text", ".adopt.txt", lambda p, d, o: None, default=False
    )
    try:
        exporters.adopt([text, exporters.get("mask")])
        assert exporters.get("text-adopt") is text
    finally:
        exporters.unregister("text-adopt")


def test_cuda_is_probed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def cdll(name: str) -> object:
        loads.append(name)
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(model_module.ctypes, "CDLL", cdll)
    model_module.cuda_probe.cache_clear()
    model_module._driver_loads.cache_clear()
    try:
        reasons = {model_module.cuda_unavailable_reason() for _ in range(3)}
        model_module.cuda_can_start()
        assert reasons == {f"CUDA not available: no NVIDIA driver found ({model_module._DRIVER})"}
        assert len(loads) == 1
    finally:
        model_module.cuda_probe.cache_clear()
        model_module._driver_loads.cache_clear()


def test_every_core_building_block_is_kept_below_the_orchestrators() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    blocks = [c for c in contracts if "app.core.pipeline" in c.get("forbidden_modules", ())]
    assert len(blocks) == 1
    assert set(blocks[0]["forbidden_modules"]) >= {
        "app.core.pipeline",
        "app.core.project",
        "app.ui",
        "app.report",
    }
    modules = {f"app.core.{m.name}" for m in pkgutil.iter_modules(app.core.__path__)}
    assert set(blocks[0]["source_modules"]) == modules - {"app.core.pipeline", "app.core.project"}


def test_a_streamed_batch_holds_no_photo_or_maps_once_each_is_yielded(
    tiny_model: SegmentationModel, tmp_path: Path
) -> None:
    """The window's batch keeps results for each row it shows; the summary kept them too, every photo's
    pixels and maps to the end (24 MP photos: 115 MB each, gigabytes in a batch)."""
    photos = _photos(tmp_path / "site", 3)
    yielded, summary = _drain(iter_batch(tiny_model, photos, None, BatchOptions(), keep_results=True))
    assert all(o.result is not None and o.photo is not None for o in yielded)
    assert [o.path for o in summary.outcomes] == photos
    assert all(o.result is None and o.photo is None and o.record is not None for o in summary.outcomes)
    kept = run_batch(tiny_model, photos, None, BatchOptions(), keep_results=True)
    assert all(o.result is not None and o.photo is not None for o in kept.outcomes)  # asked for, all of them
