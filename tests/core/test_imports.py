"""app.core must never pull in Qt or TensorFlow (docs/design.md section 2)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import app.core

FORBIDDEN = ("PySide6", "shiboken6", "tensorflow", "keras", "torch")


def test_app_core_imports_neither_qt_nor_tensorflow() -> None:
    modules = sorted(f"app.core.{m.name}" for m in pkgutil.iter_modules(app.core.__path__))
    assert "app.core.model" in modules and "app.core.pipeline" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"app.core imported {done.stdout.strip()}"


def test_the_cli_module_does_not_import_qt_until_the_gui_starts() -> None:
    code = (
        "import sys, app.cli\n"
        "print(','.join(m for m in sys.modules if m.startswith(('PySide6', 'tensorflow'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
