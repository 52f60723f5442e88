"""What the repository ships points at nothing outside it: no founders' brief, no path of the machine a
file was made on (a user's clone has neither)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|root|home/[\w.-]+|Users/[\w.-]+)/")
THIS = Path(__file__).relative_to(ROOT).as_posix()


def _tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    files = []
    for name in out.decode("utf-8", "surrogateescape").split("\0"):
        path = ROOT / name
        if not name or name == THIS or not path.is_file() or path.suffix in {".onnx", ".png", ".pdf", ".ico"}:
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:
            files.append(path)
    return files


def test_no_tracked_file_names_the_founders_brief_or_a_machine_path() -> None:
    offences = []
    for path in _tracked_text_files():
        text = path.read_text("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if "DESIGN.md" in line or MACHINE_PATH.search(line):
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offences, "\n".join(offences)
