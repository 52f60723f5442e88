"""pyproject.toml's metadata builds without setuptools deprecation warnings (PEP 639 licence)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

# An SPDX licence expression: identifiers or LicenseRef-*, joined by AND/OR/WITH, maybe in brackets.
_SPDX_ID = r"(LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9.\-]+\+?)"
_SPDX = re.compile(rf"^\(?{_SPDX_ID}( (AND|OR|WITH) \(?{_SPDX_ID}\)?)*\)?$")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_licence_is_an_spdx_expression_string() -> None:
    licence = _pyproject()["project"]["license"]
    assert isinstance(licence, str), "a TOML table here makes setuptools print deprecation warnings"
    assert _SPDX.match(licence), licence
    classifiers = _pyproject()["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")], "PEP 639: no licence classifiers"


def test_build_backend_understands_licence_expressions() -> None:
    requires = _pyproject()["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    floor = re.search(r">=\s*(\d+)", setuptools)
    assert floor and int(floor.group(1)) >= 77, setuptools  # licence expressions need setuptools 77


def test_readme_says_the_first_start_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"first start installs", readme), "a newcomer waits a minute and should know why"
