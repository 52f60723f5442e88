"""A display that is set but cannot be reached (a closed SSH session, a stopped Xvfb): Qt aborts the
process (SIGABRT, exit 134, "Reinstalling the application may fix this problem") when it tries to use
it. A PDF report needs no display at all; the window says which display it cannot reach (exit 2)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.reliability.conftest import ROOT, cli_command, cli_env, small_photos

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="X11 sockets are Unix sockets")


def _listens(address: str) -> bool:
    with socket.socket(socket.AF_UNIX) as sock, contextlib.suppress(OSError):
        sock.settimeout(1)
        sock.connect(address)
        return True
    return False


def _unused_display() -> str:
    """A display number no X server listens on (its path and its abstract socket both refuse)."""
    for number in range(7391, 7500):
        path = f"/tmp/.X11-unix/X{number}"
        if not os.path.lexists(path) and not _listens("\0" + path):
            return f":{number}"
    pytest.skip("every display number tried has a server")


def _run(env: dict[str, str], *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, encoding="utf-8", env=env, cwd=ROOT, timeout=120
    )


def _env(**values: str) -> dict[str, str]:
    env = cli_env()
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(values)
    return env


@pytest.mark.parametrize("how", ["DISPLAY", "QT_QPA_PLATFORM=xcb"])
def test_pdf_reports_are_written_with_a_display_that_cannot_be_reached(
    tmp_path: Path, model_path: Path, how: str
) -> None:
    photo = small_photos(tmp_path / "in", 1)[0]
    env = _env(DISPLAY=_unused_display()) if how == "DISPLAY" else _env(QT_QPA_PLATFORM="xcb")
    done = _run(env, "analyze", photo, "--out", tmp_path / "out", "--model", model_path, "--pdf")
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert (tmp_path / "out" / f"{photo.stem}.pdf").stat().st_size > 0
    assert (tmp_path / "out" / "results.csv").is_file()


def test_the_window_names_the_display_it_cannot_reach(tmp_path: Path) -> None:
    display = _unused_display()
    done = _run(_env(DISPLAY=display), "--settings", tmp_path / "s.ini")
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"cannot connect to display {display} (" in done.stderr, done.stderr
    assert "Reinstalling" not in done.stderr


@pytest.mark.parametrize("argv", [["--versio"], ["gui", "--device", "cuda"]])
def test_a_bad_option_is_a_usage_error_without_a_display(argv: list[str]) -> None:
    done = _run(_env(), *argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "usage: corroscope gui" in done.stderr and "needs a display" not in done.stderr, done.stderr
