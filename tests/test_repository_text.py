"""What the repository ships points at nothing outside it: no founders' brief, no path of the machine a
file was made on, no workspace folder beside the clone (a user's clone has none of them), and every link
between its documents reaches a file and a heading that exist."""

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


# The CI workspace keeps the data set beside the clone; scripts and tests may read it there, but a document
# that tells a user to use it names a folder their clone does not have.
WORKSPACE = re.compile(r"\.\./shared/|shared/data/")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"#{1,6}\s+(.*?)\s*#*\s*$")


def _documents() -> list[Path]:
    return [p for p in _tracked_text_files() if p.suffix == ".md"]


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, markup and punctuation but '-' and '_' dropped, spaces to
    '-', a repeated one suffixed -1, -2, ..."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text("utf-8", errors="replace").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_documents_name_no_workspace_folder() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in _documents()
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1)
        if WORKSPACE.search(line)
    ]
    assert not offences, "\n".join(offences)


def test_links_between_documents_reach_a_file_and_a_heading() -> None:
    offences = []
    anchors: dict[Path, set[str]] = {}
    for path in _documents():
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target):
                    continue
                name, _, anchor = target.partition("#")
                linked = (path.parent / name) if name else path
                if not linked.exists():
                    offences.append(f"{path.relative_to(ROOT)}:{number}: no file {target}")
                elif anchor and linked.suffix == ".md":
                    if linked not in anchors:
                        anchors[linked] = _anchors(linked)
                    if anchor not in anchors[linked]:
                        offences.append(
                            f"{path.relative_to(ROOT)}:{number}: no heading #{anchor} in {name or 'itself'}"
                        )
    assert not offences, "\n".join(offences)
