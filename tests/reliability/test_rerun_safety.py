"""Reruns into an output folder: a user's own `results.json` is kept, a photo re-shot under the same name
is analysed again (and named), and our own outputs are never taken for photos, even once their record is
deleted. Each case runs the real `corroscope analyze` as a process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.export import CSV_NAME
from app.core.files import write_png
from app.core.synthetic import synthetic_pipe
from tests.reliability.conftest import read_csv, run_cli, small_photos

RUN_RECORD = "results.json"
KEPT = "it was not replaced"


def _analyze(*paths: Path | str, out: Path, model: Path, extra: tuple[str, ...] = ()) -> list[str | Path]:
    return ["analyze", *paths, "--out", out, "--model", model, "--device", "cpu", *extra]


def _clean(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def test_a_users_own_results_json_is_kept_and_reported(tmp_path: Path, model_path: Path) -> None:
    photos = small_photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    mine = b'{"inspector": "my own notes on this site"}\n'
    (out / RUN_RECORD).write_bytes(mine)
    done = run_cli(*_analyze(*photos, out=out, model=model_path))
    _clean(done)
    assert done.returncode == 1
    assert f"{RUN_RECORD} is not a run record Corroscope wrote; {KEPT}" in done.stderr
    assert done.stderr.count("is not a run record") == 1, "said once, not also as a log line"
    assert (out / RUN_RECORD).read_bytes() == mine
    assert [r["status"] for r in read_csv(out / CSV_NAME)] == ["ok", "ok"]  # the CSV is still written
    forced = run_cli(*_analyze(*photos, out=out, model=model_path, extra=("--overwrite",)))
    assert forced.returncode == 0, forced.stderr  # asked: replaced
    assert json.loads((out / RUN_RECORD).read_text("utf-8"))["csv"] == CSV_NAME


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_link_named_results_json_is_never_replaced_nor_followed(tmp_path: Path, model_path: Path) -> None:
    photos = small_photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "ledger.json"
    elsewhere.write_text('{"kept": true}')
    (out / RUN_RECORD).symlink_to(elsewhere)
    done = run_cli(*_analyze(*photos, out=out, model=model_path))
    _clean(done)
    assert done.returncode == 1 and f"{RUN_RECORD} is a link or not a regular file" in done.stderr
    assert (out / RUN_RECORD).is_symlink() and elsewhere.read_text() == '{"kept": true}'


def test_our_own_results_json_is_rewritten_by_each_run(tmp_path: Path, model_path: Path) -> None:
    photos = small_photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    for _ in range(2):
        done = run_cli(*_analyze(*photos, out=out, model=model_path))
        assert done.returncode == 0, done.stderr
    assert json.loads((out / RUN_RECORD).read_text("utf-8"))["photos"]["rows"] == 2


def test_a_photo_reshot_under_the_same_name_is_analysed_again_and_named(
    tmp_path: Path, model_path: Path
) -> None:
    folder = tmp_path / "in"
    photos = small_photos(folder, 3)
    out = tmp_path / "out"
    assert run_cli(*_analyze(folder, out=out, model=model_path)).returncode == 0
    before = {r["file"]: r for r in read_csv(out / CSV_NAME)}
    write_png(photos[1], synthetic_pipe(seed=40, size=(24, 32), rust=0.6)[0], overwrite=True)
    done = run_cli(*_analyze(folder, out=out, model=model_path))
    _clean(done)
    assert done.returncode == 0, done.stderr
    assert "3 photos: 1 analysed, 2 skipped" in done.stdout
    assert "1 photo changed since the last results, analysed again:" in done.stdout
    assert str(photos[1]) in done.stdout
    after = {r["file"]: r for r in read_csv(out / CSV_NAME)}
    key = photos[1].name  # the CSV names a photo inside the folder given
    assert after[key]["corroded_share"] != before[key]["corroded_share"]
    assert {k: after[k] for k in after if k != key} == {k: before[k] for k in before if k != key}


@pytest.mark.parametrize("overwrite", [False, True], ids=["resume", "overwrite"])
def test_orphaned_outputs_in_an_output_folder_inside_the_input_are_not_photos(
    tmp_path: Path, model_path: Path, overwrite: bool
) -> None:
    folder = tmp_path / "site"
    photos = small_photos(folder, 3)
    out = folder / "results"
    cmd = _analyze(folder, out=out, model=model_path, extra=("--recursive",))
    first = run_cli(*cmd)
    assert first.returncode == 0, first.stderr
    (out / "pipe_0001.json").unlink()  # the record of one photo deleted: its mask and overlay are orphans
    again = run_cli(*cmd, *(["--overwrite"] if overwrite else []))
    _clean(again)
    assert again.returncode == 0, again.stderr
    assert "its mask output" not in again.stderr and "would replace a photo" not in again.stderr
    rows = read_csv(out / CSV_NAME)
    assert sorted(r["file"] for r in rows) == [p.name for p in photos]  # no output listed as a photo
    assert all(r["status"] == "ok" for r in rows)
    assert (out / "pipe_0001.json").exists() and not list(out.glob("*_mask_mask*"))
    assert f"{3 if overwrite else 1} analysed" in again.stdout


def test_a_users_photo_named_like_an_output_is_still_a_photo(tmp_path: Path, model_path: Path) -> None:
    """Only outputs that carry Corroscope's mark are left out: a photo of the user's named `x_mask.png`
    in the output folder is analysed."""
    folder = tmp_path / "site"
    (photo,) = small_photos(folder, 1)
    shutil.copy(photo, folder / "valve_mask.png")
    done = run_cli(*_analyze(folder, out=folder, model=model_path))
    assert done.returncode == 0, done.stderr
    assert sorted(r["file"] for r in read_csv(folder / CSV_NAME)) == [photo.name, "valve_mask.png"]
