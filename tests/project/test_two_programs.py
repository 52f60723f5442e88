"""A window and another program on one project file at once, when some code of the window's process
opens and closes the file between its transactions (a Qt file dialog that shows the project's folder
reads each file's first bytes): every program's writes are kept and the file stays whole."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

from app.core.project import Project
from tests.reliability.conftest import cli_env

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="Windows locks belong to a handle, not a process"
)

# Another program: add one asset and close; or add one, wait for a line on stdin, add another, close.
_ONCE = (
    "import sys; from app.core.project import Project\n"
    "with Project.open(sys.argv[1]) as p: p.ensure_asset(sys.argv[2])"
)
_HELD = (
    "import sys; from app.core.project import Project\n"
    "with Project.open(sys.argv[1]) as p:\n"
    "    p.ensure_asset('D-4'); print('ready', flush=True); sys.stdin.readline(); p.ensure_asset('E-5')"
)


def _touch_file_as_a_dialog_does(path: Path, qtbot) -> None:
    with open(path, "rb") as f:  # a plain open and close, nothing more
        f.read(16)
    dialog = QFileDialog(None, "Pick a folder", str(path.parent))
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    QTimer.singleShot(500, dialog.reject)
    dialog.exec()


def test_another_programs_writes_survive_a_file_touched_by_this_process(tmp_path: Path, qtbot) -> None:
    target = tmp_path / "plant.corroscope"
    Project.create(target).close()
    env = cli_env()
    with Project.open(target) as project:
        project.ensure_asset("A-1")
        _touch_file_as_a_dialog_does(target, qtbot)
        subprocess.run([sys.executable, "-c", _ONCE, str(target), "B-2"], env=env, check=True, timeout=60)
        other = subprocess.Popen(
            [sys.executable, "-c", _HELD, str(target)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "ready"
            project.ensure_asset("C-3")
            assert {a.tag for a in project.assets()} >= {"A-1", "B-2", "C-3", "D-4"}
            other.communicate("go\n", timeout=60)
        finally:
            other.kill() if other.poll() is None else None
        assert other.returncode == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Project.open(target) as project:
        assert sorted(a.tag for a in project.assets()) == ["A-1", "B-2", "C-3", "D-4", "E-5"]
