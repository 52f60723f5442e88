"""File ▸ Export results… of an edited or signed photo writes its corrected mask with the other files: the
exported photo's (it was whatever photo was on screen when the export ended), under the stem "Keep both"
gives (it wrote none), asked about with the rest, and a copy of the other kind from an earlier export
there (a signed mask beside figures now only edited) goes with Replace
(`analyze --reviewed-masks` took it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from app.core.files import sha256_file
from app.core.reviewed import read_reviewed_mask
from app.ui import export_jobs
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_edit_gui import _discard_on_close, drag  # noqa: F401  (the fixture: no question at close)


def _edited(qtbot, win, tmp_path: Path, seed: int, name: str) -> Path:
    path = photo(tmp_path, seed, size=(96, 128), name=name)[0]
    open_and_wait(qtbot, win, path)
    win.editing.set_tool("brush")
    win.editing.set_class("corrosion")
    drag(qtbot, win, [(20, 20), (70, 50)])
    return path


def _export(qtbot, win, out: Path, answer: str | None = None, monkeypatch=None) -> list[Path]:
    if answer is not None:
        monkeypatch.setattr(export_jobs, "replace_or_keep", lambda _parent, _existing, _free: answer)
    with qtbot.waitSignal(win.controller.export_finished, timeout=TIMEOUT_MS) as done:
        assert export_jobs.start_photo_export(win, out, ["mask", "json"]) is not None
    return done.args[0]


def test_the_copy_is_the_exported_photos_when_another_opens_meanwhile(qtbot, window, tmp_path) -> None:
    first = _edited(qtbot, window, tmp_path, 3, "a.png")
    exported = window.controller.result.labels.copy()
    out = tmp_path / "out"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as done:
        export_jobs.start_photo_export(window, out, ["mask", "json"])
        window.open_photo(photo(tmp_path, 4, size=(48, 64), name="b.png")[0])  # D at once
    copy = out / "a_mask.edited.png"
    assert copy in done.args[0]
    mask = read_reviewed_mask(copy)
    assert np.array_equal(mask.labels, exported) and mask.review.photo_sha256 == sha256_file(first)
    record = json.loads((out / "a.json").read_text("utf-8"))
    assert record["reviewed_mask"] == str(copy), "the record names the mask its figures are"


def test_keep_both_writes_the_copy_under_the_new_stem(qtbot, window, tmp_path, monkeypatch) -> None:
    _edited(qtbot, window, tmp_path, 3, "a.png")
    out = tmp_path / "out"
    _export(qtbot, window, out)
    written = _export(qtbot, window, out, "keep", monkeypatch)
    assert out / "a (2)_mask.edited.png" in written and (out / "a (2)_mask.edited.png").is_file()


def test_replace_removes_the_copy_of_the_other_kind(qtbot, window, tmp_path, monkeypatch) -> None:
    _edited(qtbot, window, tmp_path, 3, "a.png")
    out = tmp_path / "out"
    _export(qtbot, window, out)
    window.editing.edits.mark_reviewed("A. Inspector")
    asked: list[list[Path]] = []
    monkeypatch.setattr(
        export_jobs, "replace_or_keep", lambda _parent, existing, _free: asked.append(existing) or "replace"
    )
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        export_jobs.start_photo_export(window, out, ["mask", "json"])
    assert out / "a_mask.edited.png" in asked[0], "the file the export removes is asked about"
    assert (out / "a_mask.reviewed.png").is_file() and not (out / "a_mask.edited.png").exists()
    drag(qtbot, window, [(30, 60), (80, 70)])  # edited again: the signature no longer holds
    _export(qtbot, window, out, "replace", monkeypatch)
    assert (out / "a_mask.edited.png").is_file() and not (out / "a_mask.reviewed.png").exists()
