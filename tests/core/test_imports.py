"""app.core must never pull in Qt or TensorFlow (docs/design.md section 2)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

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


def test_every_module_of_app_is_in_a_layer() -> None:
    """A module directly in `app` that no layer names is checked by none (docs/design.md section 2)."""
    from pathlib import Path

    import app

    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    config = tomllib.loads((Path(app.__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers" and c.get("containers") == ["app"]]
    assert len(layers) == 1
    named = {name.strip() for layer in layers[0]["layers"] for name in layer.replace("|", ":").split(":")}
    modules = {m.name for m in pkgutil.iter_modules(app.__path__)}
    assert modules - named == set(), f"in no layer of pyproject.toml: {sorted(modules - named)}"
    assert named - modules == set(), f"layers name what app does not have: {sorted(named - modules)}"
