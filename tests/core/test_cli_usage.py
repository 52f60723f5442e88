"""`corroscope analyze` options refused as bad usage (exit 2) with a message that says what is wrong,
before the model loads; in-process."""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
from pathlib import Path

import pytest

from app import analyze_cli, cli
from app.core.dates import typed_date_problem

TOMORROW = dt.date.today() + dt.timedelta(days=1)
LATER = (TOMORROW + dt.timedelta(days=1)).isoformat()
BAD_DATES = ["2099-13-45", "2024-02-30", "31.02.2024", "20240101", "0001-01-01", LATER]


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_report_date_that_is_no_real_date_or_in_the_future_is_bad_usage(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--inspection-date", value])
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE
    assert "argument --inspection-date" in err and value in err, err


def test_a_report_date_is_an_iso_date_from_1900_to_tomorrow_or_none() -> None:
    assert typed_date_problem("") is None and typed_date_problem("  ") is None  # no date given
    assert typed_date_problem(TOMORROW.isoformat()) is None  # a day's grace for time zones
    assert typed_date_problem("2024-02-29") is None and typed_date_problem("1900-01-01") is None
    assert "YYYY-MM-DD" in str(typed_date_problem("31.02.2024"))
    assert "YYYY-MM-DD" in str(typed_date_problem("\u0662\u0660\u0662\u0664-01-01"))  # digits as printed
    assert "in the future" in str(typed_date_problem("2099-01-01"))


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2024-02-30", "not a real date: '2024-02-30' (February 2024 has 29 days)"),
        ("2023-02-29", "not a real date: '2023-02-29' (February 2023 has 28 days)"),
        ("2024-04-31", "not a real date: '2024-04-31' (April 2024 has 30 days)"),
        ("2024-04-00", "not a real date: '2024-04-00' (there is no day 00)"),
        ("2022-13-01", "not a real date: '2022-13-01' (there is no month 13)"),
        ("2022-00-10", "not a real date: '2022-00-10' (there is no month 00)"),
        ("0001-01-01", "too early: '0001-01-01' is before 1900 (check the year)"),
        ("1899-12-31", "too early: '1899-12-31' is before 1900 (check the year)"),
    ],
)
def test_a_date_that_is_no_real_date_says_why_in_plain_words(typed: str, problem: str) -> None:
    assert typed_date_problem(typed) == problem  # not Python's "day is out of range for month"


HEADER_REFUSED = [
    ("--asset-id", "P-\u202e7-evil", "Asset ID holds a control character (\\u202e)"),
    ("--asset-id", "P-\u200b7", "Asset ID holds an invisible character (\\u200b)"),  # as a project's tag
    ("--location", "Quay\u20663", "Location holds a control character (\\u2066)"),
    ("--client", "ACME\x1b[31m", "Client holds a control character (\\x1b)"),
    ("--inspector", "Ann\x07", "Inspector holds a control character (\\x07)"),
    ("--location", "Loc " * 8000, "Location is 31,999 characters long; at most 200 fit in a report header"),
    ("--inspection-date", "2024-05-01\u202e", "not a date in the form YYYY-MM-DD: '2024-05-01\\u202e'"),
]


@pytest.mark.parametrize(("flag", "value", "problem"), HEADER_REFUSED)
def test_a_header_field_with_a_control_character_or_too_long_is_bad_usage_naming_it(
    flag: str, value: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bidi override printed the rest of every page's header backwards ("10-50-4202"), an ESC as a box,
    a 32,000-character location 28 pages of header: refused as a project refuses its tags and names."""
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), flag, value])
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE
    assert f"argument {flag}: {problem}" in err, err
    assert not any(ch in err for ch in "\u202e\u200b\u2066\x1b\x07") and len(err) < 2_000


def test_a_header_field_in_any_script_up_to_200_characters_is_taken() -> None:
    from app.core.report_header import ReportHeader, field_problem

    for name, _label in ReportHeader.LABELS[:4]:
        assert field_problem(name, "x" * 200) is None and field_problem(name, f" {'x' * 200} ") is None
        assert "201 characters long" in str(field_problem(name, "x" * 201))
    assert field_problem("client", "شركة النفط") is None  # Arabic: right to left, a legitimate name
    assert field_problem("client", "می\u200cخواهم") is None  # Persian needs its zero-width non-joiner
    header = ReportHeader(location="Quay\u202e3")  # e.g. a project's, written by another program
    assert header.field_problem() == (
        "location",
        "Location holds a control character (\\u202e); type it again without it",
    )


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusals below come before the (slow) model load: a load fails the test."""

    def load(*_args, **_kwargs):
        raise AssertionError("the model was loaded before the usage was checked")

    monkeypatch.setattr(analyze_cli, "load_model", load)


def test_an_out_that_is_a_file_is_bad_usage_before_the_model_loads(
    tmp_path: Path, no_model_load: None, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    assert cli.main(["analyze", str(tmp_path), "--out", str(afile)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{afile} is a file, not a folder" in err and "File exists" not in err, err
    assert cli.main(["analyze", str(tmp_path), "--out", str(afile / "sub")]) == cli.EXIT_USAGE
    assert f"Cannot create the output folder {afile / 'sub'}: {afile} is a file" in capsys.readouterr().err
    assert afile.read_text() == "mine\n"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_an_out_that_is_a_loop_or_a_dangling_link_says_so(
    tmp_path: Path, no_model_load: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """mkdir said "File exists" of a link that leads nowhere or into a loop."""
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for out in ("loop1", "loop1/sub"):
        assert cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / out)]) == cli.EXIT_USAGE
        err = capsys.readouterr().err
        assert "loop of symbolic links (ELOOP)" in err and "File exists" not in err, err
    assert cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "dangling")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"a symbolic link to {tmp_path / 'nowhere'}, which does not exist" in err, err
    assert not (tmp_path / "nowhere").exists()


def test_an_out_where_no_folder_can_be_made_is_bad_usage_before_the_model_loads(
    tmp_path: Path, no_model_load: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = Path("/proc/corroscope-out")  # no folder can be made in /proc, even by root
    assert cli.main(["analyze", str(tmp_path), "--out", str(out)]) == cli.EXIT_USAGE
    assert f"error: --out: Cannot create the output folder {out}: " in capsys.readouterr().err


def test_an_out_folder_that_refuses_files_is_bad_usage_before_the_model_loads(
    tmp_path: Path, no_model_load: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.core import files

    out = tmp_path / "read-only"
    out.mkdir()

    def read_only(*_args, **_kwargs):  # as a read-only file system answers (root ignores chmod)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert cli.main(["analyze", str(tmp_path), "--out", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"error: --out: Cannot write into the output folder {out}: Read-only file system" in err


def test_checking_the_out_folder_leaves_none_behind(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "no-photos"
    empty.mkdir()
    out = tmp_path / "new" / "deeper"
    rc = cli.main(["analyze", str(empty), "--out", str(out), "--model", str(tiny_model_path)])
    assert rc == cli.EXIT_USAGE and "no photos found" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_photos_that_are_all_missing_are_bad_usage_before_the_model_loads(
    tmp_path: Path, no_model_load: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo'd path: exit 2 naming it, no model loaded, no --out made."""
    out = tmp_path / "o"
    typo, other = tmp_path / "nonexist.png", tmp_path / "gone"
    assert cli.main(["analyze", str(typo), str(other), "--out", str(out)]) == cli.EXIT_USAGE
    assert f"error: not found: {typo}, {other}" in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_photo_beside_others_is_named_and_fails_in_the_table(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.core.files import write_png
    from app.core.synthetic import synthetic_pipe

    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=1, size=(24, 32))[0])
    typo = tmp_path / "nonexist.png"
    args = ["analyze", str(photo), str(typo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main(args) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert f"Not found: {typo}" in err and "1 photo failed" in err, err


def test_a_folder_of_only_left_out_files_says_which_they_are(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """analyze and project add said only "no photos found" of a folder of HEIC and GIF photos; the
    window named them, as the user guide says the command line does."""
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "x.heic").write_bytes(b"not read")
    (folder / "y.gif").write_bytes(b"GIF89a")
    rc = cli.main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--model", str(tiny_model_path)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USAGE and "no photos found" in err
    assert "Left out 2 files named like photos: 1 .gif, 1 .heic" in err, err
    project = tmp_path / "p.corroscope"
    assert cli.main(["project", "create", str(project)]) == 0
    add = ["project", "add", str(project), "--asset", "P-1", "--date", "2024-06-01", "--inspector", "A"]
    rc = cli.main([*add, str(folder)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_USAGE and "Left out 2 files named like photos" in err, err


def test_analyze_help_states_defaults_ranges_and_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    """The help named no default for --device or --mode, no range for --mm-per-px or --tile-overlap,
    showed TILE_SCALE beside F, and no exit status."""
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # as one line, whatever the terminal's width
    assert info.value.code == 0
    assert "TILE_SCALE" not in out and "TILE_OVERLAP" not in out
    assert "--tile-scale F" in out and "--tile-overlap F" in out and "--mm-per-px F" in out
    assert "auto (default)" in out and "(default resize)" in out
    assert "from 0.0001 to 10,000" in out and "default: no scale" in out
    assert "in [0, 0.9)" in out and "57.5 s" in out
    for status in ("0 all photos done", "1 some photos failed", "2 bad usage or no usable model"):
        assert status in out, status
    for status in ("3 the Dask scheduler", "4 another run", "130 interrupted twice", "141 "):
        assert status in out, status


def _analyze_refused(tmp_path: Path, capsys, flag: str, value: str) -> str:
    """`analyze` with `flag value`, refused as bad usage by the parser; its stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), flag, value])
    assert info.value.code == cli.EXIT_USAGE
    return capsys.readouterr().err


TILE_REFUSED = [
    ("--tile-scale", "5", "must be a number from 1 to 4 (times the whole-photo view), got '5'"),
    ("--tile-scale", "nan", "must be a number from 1 to 4"),
    ("--tile-scale", "x", "must be a number from 1 to 4"),
    ("--tile-overlap", "0.9", "must be a number in [0, 0.9) (the fraction of a tile shared"),
    ("--tile-overlap", "-0.1", "must be a number in [0, 0.9)"),
]


@pytest.mark.parametrize(("flag", "value", "problem"), TILE_REFUSED)
def test_a_bad_tile_option_is_bad_usage_naming_the_option_before_the_model_loads(
    flag: str, value: str, problem: str, tmp_path: Path, no_model_load: None, capsys
) -> None:
    """It said "error: tile_scale must be in [1, 4]...", Python's field name, without a usage line."""
    err = _analyze_refused(tmp_path, capsys, flag, value)
    assert "usage: corroscope analyze" in err and f"argument {flag}: {problem}" in err, err
    assert "tile_scale" not in err and "tile_overlap" not in err


def test_project_add_refuses_a_bad_tile_scale_naming_the_option(tmp_path: Path, capsys) -> None:
    add = ["project", "add", str(tmp_path / "p.corroscope"), str(tmp_path), "--asset", "P-1"]
    with pytest.raises(SystemExit) as info:
        cli.main([*add, "--date", "2024-06-01", "--tile-scale", "0.5"])
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE
    assert "argument --tile-scale: must be a number from 1 to 4" in err and "tile_scale" not in err, err


@pytest.mark.parametrize(
    ("flag", "value", "hint"),
    [
        ("--mm-per-px", "0,5", "; write a decimal point: 0.5"),
        ("--mm-per-px", " 0,25 ", "; write a decimal point: 0.25"),
        ("--mm-per-px", "1,000", "; write a decimal point (1.000) or no thousands separator (1000)"),
        ("--min-confidence", "0,6", "; write a decimal point: 0.6"),
    ],
)
def test_a_number_with_a_decimal_comma_is_refused_with_a_hint(
    flag: str, value: str, hint: str, tmp_path: Path, no_model_load: None, capsys
) -> None:
    """--mm-per-px 0,5 was refused without a word of the comma."""
    err = _analyze_refused(tmp_path, capsys, flag, value)
    assert f"argument {flag}: must be" in err and f"got {value!r}{hint}" in err, err


def test_a_number_without_a_comma_gets_no_comma_hint(tmp_path: Path, no_model_load: None, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--mm-per-px", "0"])
    assert "decimal point" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "-", "--out", "o"],
        ["project", "add", "p.corroscope", "-", "--asset", "P-1", "--date", "2024-06-01"],
        ["adapt", "-", "--reviewed-masks", "m", "--out", "a.onnx"],
    ],
)
def test_a_dash_for_a_photo_says_standard_input_is_not_read(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """`analyze - --out o` said "error: not found: -"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.main(command)
    err = capsys.readouterr().err
    assert info.value.code == cli.EXIT_USAGE
    assert "reading photos from standard input is not supported: name the photo files" in err, err
    assert "not found" not in err and not (tmp_path / "o").exists()


def test_a_file_named_dash_is_a_photo_like_any_other(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from app.core.files import write_png
    from app.core.synthetic import synthetic_pipe

    monkeypatch.chdir(tmp_path)
    write_png(tmp_path / "pipe.png", synthetic_pipe(seed=1, size=(24, 32))[0]).rename(tmp_path / "-")
    rc = cli.main(["analyze", "-", "--out", "o", "--model", str(tiny_model_path)])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_OK and "standard input" not in err, err


def _subparsers(parser: argparse.ArgumentParser, name: str = "corroscope"):
    """Every (sub)command's parser by its name, "corroscope project add" and so on."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _subparsers(child, f"{name} {sub}")


def test_every_argument_of_every_command_has_help() -> None:
    """project add's --inspector, --device, --mode and PHOTO_OR_DIR, project trend's --asset, project
    relocate's DIR and adapt's PHOTO_OR_DIR were listed with no word of what they are."""
    bare = [
        f"{name} {action.metavar or '/'.join(action.option_strings) or action.dest}"
        for name, parser in _subparsers(cli.build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert bare == []


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (
            ["project", "add"],
            ["who inspected", "auto (default)", "resize (default)", "photos and/or folders"],
        ),
        (["project", "trend"], ["the asset's tag"]),
        (["project", "relocate"], ["the folder the photos were moved to"]),
        (["adapt"], ["the reviewed photos and/or folders of them"]),
    ],
)
def test_the_help_says_what_each_argument_is(command: list[str], shown: list[str], capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main([*command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(text in out for text in shown), out


def test_no_resume_without_overwrite_says_once_how_to_replace_the_outputs(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "...already exists; it was kept (ask to overwrite (--overwrite) to replace it)"; the help
    of --no-resume did not say that outputs are replaced only with --overwrite."""
    from app.core.files import write_png
    from app.core.synthetic import synthetic_pipe

    photo = write_png(tmp_path / "pipe.png", synthetic_pipe(seed=1, size=(24, 32))[0])
    args = ["analyze", str(photo), "--out", str(tmp_path / "o"), "--model", str(tiny_model_path)]
    assert cli.main(args) == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main([*args, "--no-resume"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "already exists and was kept (move it away, or pass --overwrite to replace it)" in err, err
    assert "(--overwrite)" not in err
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--no-resume do not skip photos whose outputs exist; those outputs are replaced only with" in out
