"""Nothing in the code base turns on unsafe deserialization: Keras safe mode stays on, pickles go
through the restricted unpickler, no eval/exec. Checked on the source (AST) and, for Keras, by
loading a model that only unsafe mode would run."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import ROOT, cli_env

SCANNED = ("app", "training", "scripts", "bench", "packaging")


def _python_files() -> list[Path]:
    files = []
    for top in SCANNED:
        folder = ROOT / top
        if folder.is_dir():
            files += [p for p in folder.rglob("*") if p.is_file() and _is_python(p)]
    return sorted(files)


def _is_python(path: Path) -> bool:
    if path.suffix == ".py":
        return True
    if path.suffix:
        return False
    try:
        return path.read_text(encoding="utf-8", errors="replace").startswith("#!/usr/bin/env python")
    except OSError:
        return False


def _name(node: ast.AST) -> str:
    """`a.b.c` for a Name/Attribute chain, else ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value) or '?'}.{node.attr}"  # `Dialog().exec()` is `?.exec`, not `exec`
    return ""


def unsafe_uses(source: str, filename: str = "<source>") -> list[str]:
    """Lines that enable unsafe deserialization or run code from data."""
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.keyword) and node.arg in ("safe_mode", "allow_pickle"):
            safe = node.arg == "safe_mode"  # safe_mode must be True, allow_pickle False
            if not (isinstance(node.value, ast.Constant) and node.value.value is safe):
                found.append(f"{where}: {node.arg}={ast.unparse(node.value)}")
        if isinstance(node, ast.Attribute | ast.Name) and _name(node).endswith(
            "enable_unsafe_deserialization"
        ):
            found.append(f"{where}: {_name(node)}")
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in (
                "eval",
                "exec",
                "pickle.load",
                "pickle.loads",
                "torch.load",
                "yaml.load",
                "marshal.loads",
            ):
                found.append(f"{where}: {called}(...)")
        if isinstance(node, ast.ClassDef) and any(_name(b).endswith("Unpickler") for b in node.bases):
            methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            if "find_class" not in methods:
                found.append(f"{where}: unpickler {node.name} without a restricting find_class")
    return found


def test_the_checker_finds_each_unsafe_pattern() -> None:
    bad = """
import keras, pickle, numpy as np
keras.config.enable_unsafe_deserialization()
keras.models.load_model("m.keras", safe_mode=False)
keras.models.load_model("m.keras", safe_mode=flag)
np.load("x.npy", allow_pickle=True)
pickle.loads(b"")
eval("1")
class U(pickle.Unpickler):
    pass
"""
    assert len(unsafe_uses(bad)) == 7
    good = 'import keras\nkeras.models.load_model("m.keras", compile=False, safe_mode=True)\n'
    assert unsafe_uses(good) == []


def test_no_source_file_enables_unsafe_deserialization() -> None:
    files = _python_files()
    assert any(p.name == "weights.py" for p in files) and len(files) > 20, "the scan sees the code"
    found = [hit for path in files for hit in unsafe_uses(path.read_text(encoding="utf-8"), str(path))]
    assert found == []


_KERAS_PROBE = r"""
import importlib, pkgutil, sys
import keras
from keras.src.saving import serialization_lib
import training
for info in pkgutil.walk_packages(training.__path__, "training."):
    importlib.import_module(info.name)  # importing the training code changes no global setting
assert serialization_lib.in_safe_mode() is not False, "importing training enabled unsafe deserialization"
from training.models import load_model
inputs = keras.Input((4,))
outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
path = sys.argv[1]
keras.Model(inputs, outputs).save(path)
try:
    load_model(path)
except Exception as exc:
    print("refused:", type(exc).__name__, str(exc).splitlines()[0][:200])
else:
    print("LOADED a Lambda layer: safe mode is off")
"""


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs the train extra (Keras)")
def test_training_loads_keras_files_in_safe_mode(tmp_path: Path) -> None:
    """A .keras file holding Python code (a Lambda layer) is refused by `training.models.load_model`."""
    env = {**cli_env(), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", _KERAS_PROBE, str(tmp_path / "lambda.keras")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused:" in done.stdout and "Lambda" in done.stdout, done.stdout
