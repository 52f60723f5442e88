"""A mistyped command is bad usage naming it (and the command meant), not the desktop app starting."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli


def test_a_mistyped_command_is_named_with_the_one_meant(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "run_gui", lambda argv: pytest.fail(f"the app was started with {argv}"))
    with pytest.raises(SystemExit) as info:
        cli.main(["analyse", "photo.png", "--out", "out"])
    assert info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: corroscope")
    assert "error: unknown command 'analyse' (did you mean 'analyze'?" in err


def test_a_photo_or_folder_still_opens_the_app(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    opened: list[list[str]] = []
    monkeypatch.setattr(cli, "run_gui", lambda argv: opened.append(argv) or 0)
    (tmp_path / "site").mkdir()
    for argv in (["photo.jpg"], ["site"], ["--model", "m.onnx"], [str(tmp_path / "x" / "p.png")], []):
        assert cli.main(argv) == 0
    assert opened == [["photo.jpg"], ["site"], ["--model", "m.onnx"], [str(tmp_path / "x" / "p.png")], []]
