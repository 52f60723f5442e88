"""Every command's console is guarded as `analyze`'s is: a full disk (`> /dev/full`), a console that is
not UTF-8 or a closed stderr is no traceback; a command whose product is its output fails (exit 1) when
that output could not be written; errors never go to stdout."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reliability.conftest import ROOT, cli_command, cli_env

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full and a POSIX shell")


def _shell(args: list[str | os.PathLike[str]], redirect: str, **env: str) -> subprocess.CompletedProcess[str]:
    line = " ".join(shlex.quote(a) for a in cli_command(*args))
    return subprocess.run(
        ["sh", "-c", f"{line} {redirect}"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        env={**cli_env(), **env},
        cwd=ROOT,
    )


def test_output_that_cannot_be_written_fails_every_command_quietly(tmp_path: Path, model_path: Path) -> None:
    project = tmp_path / "p.corroscope"
    for args in (
        ["--version"],
        ["selftest", "--model", model_path],
        ["project", "create", project],
        ["project", "list", project],
    ):
        done = _shell(args, "> /dev/full")
        assert done.returncode == 1, (args, done.returncode, done.stderr)
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_a_console_that_is_not_utf8_gets_escaped_names(tmp_path: Path, model_path: Path) -> None:
    (tmp_path / "mödel").mkdir()
    model = shutil.copy(model_path, tmp_path / "mödel" / "x.onnx")
    done = _shell(["selftest", "--model", model], "", PYTHONIOENCODING="ascii")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "m\\xf6del" in done.stdout and "Selftest passed." in done.stdout, done.stdout


def test_errors_never_go_to_stdout_when_stderr_is_closed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    done = _shell(["selftest", "--model", bad], "2>&-")
    assert done.returncode == 1, done.returncode
    assert "error" not in done.stdout.lower() and "FAILED" not in done.stdout, done.stdout
