"""Untrusted text never drives the terminal (the second hostile pass): photo names in `analyze`'s result
line, progress bar (on a real terminal, a pty) and failure list; asset tags, inspectors' names and
asset facts in `project add/list/trend`, which on a shared project come from other people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app import cli
from tests.reliability.conftest import ROOT, cli_command, cli_env, run_cli, small_photos

ESC, BEL = "\x1b", "\x07"
HOSTILE = f"a{ESC}]0;PWNED{BEL}{ESC}[2J\x9b31m\u202e"  # retitle, clear, C1 CSI, right-to-left


def _assert_clean(text: str) -> None:
    for bad in (ESC, BEL, "\x9b", "\u202e"):
        assert bad not in text, (bad, text[:2000])


def _hostile_folder(tmp_path: Path) -> Path:
    """One good photo and one broken one, both with escape sequences in their names."""
    folder = tmp_path / "in"
    (photo,) = small_photos(folder, 1)
    photo.rename(folder / f"{HOSTILE}.png")
    (folder / f"broken{HOSTILE}.png").write_bytes(b"not a png")
    return folder


def test_photo_names_reach_analyzes_lines_escaped(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _hostile_folder(tmp_path)
    rc = cli.main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--model", str(model_path)])
    out, err = capsys.readouterr()
    assert rc == 1  # the broken photo failed
    _assert_clean(out + err)
    assert r"a\x1b]0;PWNED\x07\x1b[2J\x9b31m\u202e.png: corroded" in out  # the result line
    assert r"brokena\x1b]0;PWNED" in err and "1 photo failed:" in err  # progress and failure list


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal")
def test_the_progress_bar_on_a_terminal_shows_names_escaped(tmp_path: Path, model_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    master, slave = os.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    args = cli_command(
        "analyze", folder, "--out", tmp_path / "out", "--model", model_path, "--engine", "serial"
    )
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=slave, timeout=120, env=cli_env(), cwd=ROOT)
    os.close(slave)
    reader.join(10)
    os.close(master)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert done.returncode == 1 and "0%" in terminal and "100%" in terminal, terminal  # the bar was drawn
    _assert_clean(terminal + done.stdout.decode("utf-8", "replace"))
    assert r"a\x1b]0;PWNED" in terminal


def test_tags_inspectors_and_facts_reach_the_project_commands_escaped(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    photo = small_photos(tmp_path / "in", 1)[0]
    project = str(tmp_path / "p.corroscope")
    tag, inspector = f"P-1{HOSTILE}", f"Eve{HOSTILE}"
    assert cli.main(["project", "create", project]) == 0
    hostile = ["project", "add", project, str(photo), "--asset", tag, "--date", "2026-01-02"]
    hostile += ["--inspector", inspector, "--asset-location", f"roof{HOSTILE}", "--model", str(model_path)]
    assert cli.main(hostile) == 2  # typed text with escapes is refused where it would be stored
    _out, err = capsys.readouterr()
    _assert_clean(err)
    assert "The asset's tag holds a control character (\\x1b)" in err
    early = ["project", "add", project, str(photo), "--asset", "P-1", "--date", "2026-01-02"]
    early += ["--inspector", inspector, "--model", str(tmp_path / "no-such-model.onnx")]
    assert cli.main(early) == 2
    _out, err = capsys.readouterr()  # refused before the model loads (or fails to), not after
    assert "The inspector's name holds a control character" in err and "no-such-model" not in err, err
    add = ["project", "add", project, str(photo), "--asset", "P-1", "--date", "2026-01-02"]
    add += ["--inspector", "Eve", "--asset-location", "roof", "--model", str(model_path)]
    assert cli.main(add) == 0
    # a project written before typed text was checked may hold such values: they are shown escaped
    with sqlite3.connect(project) as db:
        db.execute("UPDATE assets SET tag = ?, location = ?", (tag, f"roof{HOSTILE}"))
        db.execute("UPDATE inspections SET inspector = ?", (inspector,))
    add[3] = str(tmp_path / "in" / f"gone{HOSTILE}.png")  # a photo that fails: the failure line
    (tmp_path / "in" / f"gone{HOSTILE}.png").write_bytes(b"junk")
    add[5], add[9] = "P-2", "Bo"
    assert cli.main(add) == 1
    assert cli.main(["project", "list", project]) == 0
    assert cli.main(["project", "trend", project, "--asset", tag]) == 0
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert r"P-1a\x1b]0;PWNED" in out and out.count(r"Evea\x1b]0;PWNED") >= 2, out  # list, trend
    assert r"roofa\x1b]0;PWNED" in out and r"gonea\x1b]0;PWNED" in err, (out, err)


_TWENTY_MB = "Q" * 20_000_000


@pytest.fixture(scope="module")
def wordy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The channel model with 20 MB in each of its free-text metadata values and in its metrics."""
    from app.core import contract
    from tests.helpers.tiny_models import channel_model

    big = {k: _TWENTY_MB for k in (contract.KEY_ARCHITECTURE, contract.KEY_BACKBONE, contract.KEY_TRAINED_ON)}
    big[contract.KEY_METRICS] = json.dumps({"split": _TWENTY_MB, "note": _TWENTY_MB})
    return channel_model(tmp_path_factory.mktemp("wordy") / "wordy.onnx", metadata=big)


def test_megabytes_of_model_metadata_do_not_go_whole_into_the_pdf(tmp_path: Path, wordy_model: Path) -> None:
    """The PDF of one photo holds at most a cut of each value: its size stays that of an ordinary
    report (a 20 MB value went whole into every PDF: 1.6 GB and 20 s for one photo)."""
    photo = small_photos(tmp_path / "in", 1)[0]
    done = run_cli("analyze", photo, "--out", tmp_path / "out", "--model", wordy_model, "--pdf", timeout=300)
    assert done.returncode == 0, done.stderr
    (pdf,) = (tmp_path / "out").glob("*.pdf")
    assert pdf.stat().st_size < 1_000_000, pdf.stat().st_size
    assert len(done.stdout + done.stderr) < 5_000


def test_megabytes_of_model_metadata_are_cut_in_the_model_rows_and_the_info_dialog(wordy_model: Path) -> None:
    from app.core.model import SegmentationModel
    from app.report.pdf import model_rows
    from app.ui.model_info_dialog import model_info_html

    model = SegmentationModel.load(wordy_model, device="cpu")
    assert all(len(value) < 300 for _, value in model_rows(model)), [len(v) for _, v in model_rows(model)]
    page = model_info_html(model)
    assert len(page) < 20_000 and "20,000,000 characters in all" in page
