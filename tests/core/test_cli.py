"""The `corroscope` command, run in-process (fast) and as a real process for the end-to-end case."""

from __future__ import annotations

import csv
import importlib.util
import io
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import app
from app import analyze_cli, cli, cli_common
from app.analyze_args import CLI_EXPORTS
from app.core import contract
from app.core.files import write_png
from app.core.synthetic import synthetic_pipe
from tests.helpers.outputs import output_paths
from tests.helpers.tiny_models import channel_model


@pytest.fixture
def no_bundled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common, "default_model_path", lambda *_args, **_kwargs: None)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"corroscope {app.__version__}"


def test_analyze_without_any_model_says_how_to_pass_one(
    tmp_path: Path, no_bundled_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USAGE
    assert "none is bundled" in err and "--model FILE" in err


def test_selftest_without_any_model_fails_plainly(no_bundled_model: None, capsys) -> None:
    assert cli.main(["selftest"]) == cli.EXIT_FAILED
    assert "--model FILE" in capsys.readouterr().err


def test_a_model_without_metadata_is_refused_naming_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = channel_model(tmp_path / "bare.onnx", metadata={k: None for k in contract.REQUIRED_KEYS})
    (tmp_path / "p.png").write_bytes(b"")
    rc = cli.main(["analyze", str(tmp_path / "p.png"), "--out", str(tmp_path / "o"), "--model", str(bare)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USAGE
    assert "bare.onnx" in err
    for key in contract.REQUIRED_KEYS:
        assert key in err
    assert not (tmp_path / "o").exists()


def test_selftest_prints_provider_timing_and_identity(
    tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli.main(["selftest", "--model", str(tiny_model_path), "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Provider:  CPU (CPUExecutionProvider)" in out
    assert "CUDA not used: CPU was chosen" in out
    assert "SHA-256:   " in out and "Timing:" in out and "synthetic_pipe_01.jpg" in out
    assert "Selftest passed." in out


def test_selftest_asked_for_cuda_fails_unless_cuda_runs(tiny_model_path: Path, capsys) -> None:
    rc = cli.main(["selftest", "--model", str(tiny_model_path), "--device", "cuda"])
    captured = capsys.readouterr()
    if "Provider:  CUDA" in captured.out:
        assert rc == 0
    else:
        assert rc == cli.EXIT_FAILED
        assert "CUDA was asked for but does not run (CUDA" in captured.err


def test_no_photos_found(tmp_path: Path, tiny_model_path: Path, capsys) -> None:
    rc = cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)])
    assert rc == cli.EXIT_USAGE
    assert "no photos found" in capsys.readouterr().err


def test_gui_without_a_display_points_to_the_headless_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux-only")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert cli.main([]) == cli.EXIT_USAGE
    assert "selftest" in capsys.readouterr().err


def test_gui_when_the_ui_cannot_be_imported(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setitem(sys.modules, "app.ui.main", None)  # makes `import app.ui.main` fail
    assert cli.main(["gui"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "cannot start" in err and "corroscope selftest" in err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_one_line_on_a_terminal(tmp_path: Path) -> None:
    from app.core.pipeline import DONE, PhotoOutcome

    stream = _Tty()
    bar = analyze_cli.ProgressBar(2, stream)
    bar.started(1, 2, tmp_path / "a.jpg")
    bar.finished(PhotoOutcome(0, tmp_path / "a.jpg", DONE))
    bar.clear()
    text = stream.getvalue()
    assert "\n" not in text
    assert "\r[" in text and "1/2" in text and "a.jpg" in text and text.endswith("\r")


def _folder_for_done_when(root: Path) -> tuple[list[Path], list[Path]]:
    """Good photos (one under a non-ASCII path), a corrupt file, a 0-byte file."""
    src = root / "photos"
    (src / "Prüfung 管道").mkdir(parents=True)
    good = [
        write_png(src / "pipe_a.png", synthetic_pipe(seed=1, size=(60, 80))[0]),
        write_png(src / "Prüfung 管道" / "Rohr_ü.png", synthetic_pipe(seed=2, size=(70, 50))[0]),
    ]
    corrupt, empty = src / "corrupt.jpg", src / "empty.png"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    empty.write_bytes(b"")
    return good, [corrupt, empty]


def test_analyze_end_to_end_as_a_real_process(tmp_path: Path, tiny_model_path: Path) -> None:
    good, bad = _folder_for_done_when(tmp_path)
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "app", "analyze", str(tmp_path / "photos"), str(good[1].parent)]
    cmd += ["--out", str(out), "--model", str(tiny_model_path), "--device", "cpu"]
    done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert done.returncode == 1, done.stderr
    for path in good:
        outs = output_paths(out, path.stem, CLI_EXPORTS)
        assert all(p.exists() for p in outs.all()), path
        assert str(path) in done.stdout  # the per-photo figures line
    assert "2 photos failed:" in done.stderr
    assert f"{bad[0]}: not an image Corroscope can read" in done.stderr
    assert f"{bad[1]}: file is empty (0 bytes)" in done.stderr
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    # relative to the folder each came from (the nearest one given)
    assert set(rows) == {"pipe_a.png", "Rohr_ü.png", "corrupt.jpg", "empty.png"}
    assert {rows[p.name]["status"] for p in good} == {"ok"}
    assert rows["empty.png"]["error"] == "file is empty (0 bytes)"
    assert "Model: " in done.stderr and "on CPU" in done.stderr


@pytest.mark.skipif(importlib.util.find_spec("PySide6") is None, reason="--pdf needs PySide6 (app.report)")
def test_analyze_pdf_writes_a_report_per_photo(tmp_path: Path, tiny_model_path: Path) -> None:
    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=4, size=(60, 80))[0])
    cmd = [sys.executable, "-m", "app", "analyze", str(photo), "--out", str(tmp_path / "o")]
    cmd += ["--model", str(tiny_model_path), "--device", "cpu", "--pdf"]
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "o" / "pipe.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


def test_analyze_pdf_without_the_report_module_is_a_clear_error(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "app.report", None)
    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=4, size=(60, 80))[0])
    rc = cli.main(
        ["analyze", str(photo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path), "--pdf"]
    )
    assert rc == cli.EXIT_USAGE
    assert "--pdf needs the report module" in capsys.readouterr().err


def test_analyze_into_the_photo_folder_does_not_analyse_its_own_outputs(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(2):
        write_png(tmp_path / f"p{i}.png", synthetic_pipe(seed=i, size=(40, 50))[0])
    args = ["analyze", str(tmp_path), "--out", str(tmp_path), "--model", str(tiny_model_path)]
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "2 photos: 0 analysed, 2 skipped" in out


@pytest.mark.slow
def test_ctrl_c_stops_after_the_current_photo_and_writes_the_csv(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    for i in range(40):
        write_png(tmp_path / "in" / f"p{i:02d}.png", synthetic_pipe(seed=i, size=(120, 160))[0])
    cmd = [sys.executable, "-m", "app", "analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o")]
    cmd += ["--model", str(tiny_model_path), "--device", "cpu", "--mode", "tiles"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("[2/"):
            proc.send_signal(signal.SIGINT)
            break
    rest_err = proc.stderr.read()
    out = proc.stdout.read()
    proc.wait(timeout=120)
    assert proc.returncode == cli.EXIT_FAILED, rest_err
    assert "Stopping after this photo" in rest_err
    assert "Stopped before the end; run the same command again to resume." in rest_err
    with open(tmp_path / "o" / "results.csv", encoding="utf-8-sig", newline="") as fh:
        listed = list(csv.DictReader(fh))
    finished = [r for r in listed if r["status"] == "ok"]
    assert len(listed) == 40 and {r["status"] for r in listed[len(finished) :]} == {"not analysed"}
    assert 2 <= len(finished) < 40
    assert f"{len(finished)} analysed" in out


def test_bad_tile_options_are_a_usage_error(tmp_path: Path, tiny_model_path: Path, capsys) -> None:
    photo = write_png(tmp_path / "p.png", synthetic_pipe(seed=1, size=(40, 40))[0])
    args = ["analyze", str(photo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    with pytest.raises(SystemExit) as info:
        cli.main([*args, "--mode", "tiles", "--tile-overlap", "0.95"])
    assert info.value.code == cli.EXIT_USAGE
    assert "argument --tile-overlap: must be a number in [0, 0.9)" in capsys.readouterr().err


def test_the_summary_counts_one_photo_in_the_singular(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(1, (48, 64))[0])
    args = ["analyze", str(photo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--device", "cpu"]) == 0
    assert "1 photo: 1 analysed, 0 failed, in " in capsys.readouterr().out


def test_the_command_line_loads_the_project_store_only_for_a_project_command() -> None:
    """SQLAlchemy and the project package cost start-up time; `analyze`, `selftest` and the window's
    start do not need them (the project commands import them when they run)."""
    code = "import sys, app.cli; print('sqlalchemy' in sys.modules, 'app.core.project.store' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split() == ["False", "False"], (done.stdout, done.stderr)


def test_the_summary_of_a_stopped_batch_counts_the_photos_never_run(tmp_path: Path, capsys) -> None:
    """After SIGINT in a 299-photo run it said "299 photos: 72 analysed, 0 failed" and no more."""
    from app.core.pipeline import DONE, BatchSummary, PhotoOutcome

    outcomes = tuple(PhotoOutcome(i, tmp_path / f"p{i}.png", DONE) for i in range(72))
    summary = BatchSummary(total=299, outcomes=outcomes, cancelled=True, csv_path=None, seconds=4.5)
    assert analyze_cli._report(summary) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "299 photos: 72 analysed, 0 failed, 227 not analysed, in 4.5 s." in out, out


@pytest.mark.parametrize(
    ("options", "advice"),
    [
        ((), "Stopped before the end; run the same command again to resume."),
        (
            ("--overwrite",),
            "run the same command again to finish (with --overwrite it analyses every photo again",
        ),
        (("--no-resume",), "run the command again without --no-resume to resume (the photos done are kept)"),
    ],
)
def test_the_advice_after_a_stop_is_true_for_the_options_the_run_had(
    tmp_path: Path, tiny_model_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, options, advice
) -> None:
    """After a stop the CLI said "run the same command again to resume" also under --overwrite (which
    analyses every photo again) and --no-resume (which then fails on every output it left)."""
    (tmp_path / "in").mkdir()
    for i in range(3):
        write_png(tmp_path / "in" / f"p{i}.png", synthetic_pipe(seed=i, size=(40, 50))[0])
    real = analyze_cli.run_batch

    def stopped_after_one(*args, **kwargs):
        seen, progress = [], kwargs["progress"]
        kwargs["progress"] = lambda outcome: (seen.append(outcome), progress(outcome))
        kwargs["cancelled"] = lambda: bool(seen)  # as Ctrl+C after the first photo
        return real(*args, **kwargs)

    monkeypatch.setattr(analyze_cli, "run_batch", stopped_after_one)
    args = ["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main([*args, "--engine", "serial", *options]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert advice in err
    if options:
        assert "again to resume." not in err
