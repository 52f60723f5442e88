"""The Linux CPU build's lock file: what scripts/build installs must be what pyproject.toml asks for."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "packaging" / "pyinstaller" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


bl = _load("build_lock")
cb = _load("corroscope_build")
LOCKED = bl.parse((ROOT / bl.LOCK_FILE).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "requirement",
    [
        *cb.runtime_requirements(ROOT / "pyproject.toml", "cpu"),
        *cb.build_requirements(ROOT / "pyproject.toml"),
    ],
)
def test_every_requirement_of_the_cpu_build_is_pinned_within_its_range(requirement):
    req = Requirement(requirement)
    pin = LOCKED.get(bl.normalise(req.name))
    assert pin is not None, f"{req.name} is not in {bl.LOCK_FILE}"
    assert req.specifier.contains(pin.version, prereleases=True), f"{pin.version} is outside {req}"
    assert pin.hashes


def test_the_lock_holds_no_gpu_runtime_and_no_venv_tool():
    assert "onnxruntime-gpu" not in LOCKED
    assert not bl.NOT_PINNED & set(LOCKED)


def test_render_and_parse_agree():
    pins = [
        bl.Pin("numpy", "2.4.6", ("a" * 64, "b" * 64)),
        bl.Pin("pyside6-essentials", "6.11.3", ("c" * 64,)),
    ]
    assert list(bl.parse(bl.render(pins)).values()) == pins


@pytest.mark.parametrize(
    "line",
    ["numpy>=2", "numpy==2.4.6", "numpy==2.4.6 --hash=sha256:abc", "numpy==2.4.6 --hash=md5:" + "a" * 64],
)
def test_parse_refuses_a_line_without_pin_or_hash(line):
    with pytest.raises(ValueError, match="not a pinned, hashed requirement"):
        bl.parse(line + "\n")


def test_pins_from_freeze_skips_the_app_and_venv_tools():
    freeze = [
        "PySide6_Essentials==6.11.3",
        "-e file:///src/corroscope",
        "pip==26.2",
        "setuptools==65.5.0",
        "numpy==2.4.6",
    ]
    assert bl.pins_from_freeze(freeze) == [("numpy", "2.4.6"), ("pyside6-essentials", "6.11.3")]


def test_wheel_hashes_take_every_wheel_of_that_version_only():
    index = {
        "files": [
            {
                "filename": "PySide6_Essentials-6.11.3-cp39-abi3-manylinux_2_28_x86_64.whl",
                "hashes": {"sha256": "1" * 64},
            },
            {"filename": "PySide6_Essentials-6.11.3-cp39-abi3-win_amd64.whl", "hashes": {"sha256": "2" * 64}},
            {"filename": "PySide6_Essentials-6.11.2-cp39-abi3-win_amd64.whl", "hashes": {"sha256": "3" * 64}},
            {"filename": "pyside6_essentials-6.11.3.tar.gz", "hashes": {"sha256": "4" * 64}},
            {
                "filename": "PySide6_Essentials-6.11.3-cp39-abi3-macosx.whl",
                "hashes": {"sha256": "5" * 64},
                "yanked": True,
            },
        ]
    }
    assert bl.wheel_hashes("pyside6-essentials", "6.11.3", index) == ("1" * 64, "2" * 64)
    with pytest.raises(ValueError, match=r"no wheel of pyside6-essentials 6\.11\.4"):
        bl.wheel_hashes("pyside6-essentials", "6.11.4", index)
