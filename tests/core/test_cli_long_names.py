"""A path with a name over the file system's limit (255 bytes) is one line with the reason: every
`exists()` and `is_dir()` on it raised ENAMETOOLONG as a traceback (exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from app.core.adapt import AdaptRefused
from app.core.adapt_checks import check_output
from app.core.errors import ExportError, ModelContractError
from app.core.model import SegmentationModel
from app.core.pipeline import check_out_dir

LONG = "y" * 300
CASES = {
    "analyze PATH": ["analyze", "{p}/" + LONG + ".png", "--out", "{o}"],
    "analyze PATH among others": ["analyze", "{p}/" + LONG + ".png", "{p}", "--out", "{o}"],
    "analyze --out": ["analyze", "{p}", "--out", "{t}/" + LONG],
    "analyze --reviewed-masks": ["analyze", "{p}", "--out", "{o}", "--reviewed-masks", "{t}/" + LONG],
    "selftest --model": ["selftest", "--model", "{t}/" + LONG + ".onnx"],
    "adapt --out": ["adapt", "{p}", "--reviewed-masks", "{p}", "--out", "{t}/" + LONG + ".onnx"],
}


@pytest.mark.parametrize("argv", CASES.values(), ids=CASES.keys())
def test_a_name_too_long_is_bad_usage_naming_the_option(argv: list[str], tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    args = [a.format(p=tmp_path / "in", o=tmp_path / "o", t=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE, err
    assert "longer than the file system allows" in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_the_core_checks_say_a_name_is_too_long(tmp_path: Path) -> None:
    """Their other callers (the window) get the reason as the error they handle, not an OSError."""
    with pytest.raises(ModelContractError, match="File name too long"):
        SegmentationModel.load(tmp_path / f"{LONG}.onnx", device="cpu")
    with pytest.raises(AdaptRefused, match="File name too long"):
        check_output(tmp_path / "base.onnx", tmp_path / f"{LONG}.onnx", overwrite=False)
    with pytest.raises(ExportError, match="File name too long"):
        check_out_dir(tmp_path / "new" / LONG / "out")
    assert list(tmp_path.iterdir()) == [], "the folders made to find out are removed again"
