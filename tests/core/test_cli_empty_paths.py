"""An empty string as a path (`--out "$UNSET"`) is bad usage naming the option: `Path("")` is the current
folder, so `analyze ""` analysed it and `--out ""` wrote into it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli

MASKS = "--reviewed-masks"
ADD = ["project", "add", "{o}.corroscope"]
CASES = {
    "analyze PATH": (["analyze", "", "--out", "{o}"], "argument PATH"),
    "analyze --out": (["analyze", "{p}", "--out", ""], "argument --out"),
    "analyze --reviewed-masks": (["analyze", "{p}", "--out", "{o}", MASKS, ""], MASKS),
    "analyze --model": (["analyze", "{p}", "--out", "{o}", "--model", ""], "argument --model"),
    "selftest --model": (["selftest", "--model", ""], "argument --model"),
    "adapt PATH": (["adapt", "", "--reviewed-masks", "{p}", "--out", "{o}.onnx"], "argument PHOTO_OR_DIR"),
    "adapt --reviewed-masks": (["adapt", "{p}", MASKS, "", "--out", "{o}.onnx"], MASKS),
    "adapt --out": (["adapt", "{p}", "--reviewed-masks", "{p}", "--out", ""], "argument --out"),
    "project create": (["project", "create", ""], "argument project"),
    "project add PATH": ([*ADD, "", "--asset", "A", "--date", "2024-01-01"], "argument PHOTO_OR_DIR"),
    "project export --out": (["project", "export", "{o}.corroscope", "--out", ""], "argument --out"),
}


@pytest.mark.parametrize("argv, named", CASES.values(), ids=CASES.keys())
def test_an_empty_path_is_bad_usage_naming_the_option(
    argv: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # were "" taken as the current folder, nothing of the repository is touched
    (tmp_path / "in").mkdir()
    args = [a.format(p=tmp_path / "in", o=tmp_path / "o") for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE, err
    assert named in err and "empty path" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing written, nothing made
