"""Every name that a script in `scripts/` or `bench/` imports exists.

These scripts run rarely (screenshots, benchmarks), and ruff cannot see `from module import name` where
the module has lost the name, so a stale import would wait for the next person who runs the script.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("scripts/*.py"), *ROOT.glob("bench/*.py")])


def _optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """True for an import inside `try: ... except ImportError` (the script copes without it)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                names = ast.unparse(handler.type) if handler.type else "ImportError"
                if "ImportError" in names or "ModuleNotFoundError" in names:
                    return True
    return False


def imported_names(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for each `from module import name`, (module, None) for each `import module`,
    anywhere in the file (also inside functions); relative imports resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = path.parent.name
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if _optional(node, parents):
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            module = node.module or ""
            if node.level:
                module = importlib.util.resolve_name("." * node.level + module, package)
            out += [(module, alias.name) for alias in node.names if alias.name != "*"]
    return out


def missing_names(path: Path) -> list[str]:
    missing = []
    for module, name in imported_names(path):
        try:
            found = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"import {module}: {exc}")
            continue
        if name is None or hasattr(found, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")  # a submodule not yet imported
        except ImportError:
            missing.append(f"from {module} import {name}: {module} has no {name!r}")
    return missing


def test_the_scripts_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SCRIPTS}
    assert {"scripts/project_screenshots.py", "scripts/screenshots.py", "bench/run.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_name_a_script_imports_exists(script: Path) -> None:
    assert missing_names(script) == []


def test_a_stale_name_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "stale.py"
    script.write_text(
        "import json\nfrom app.core.photos import write_png\n"
        "def f():\n    from app.core.files import no_such_name\n"
        "try:\n    import no_such_module\nexcept ImportError:\n    pass\n",
        encoding="utf-8",
    )
    assert missing_names(script) == [
        "from app.core.photos import write_png: app.core.photos has no 'write_png'",
        "from app.core.files import no_such_name: app.core.files has no 'no_such_name'",
    ]
