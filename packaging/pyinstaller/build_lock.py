"""The Linux CPU build's pinned, hash-checked requirements (`packaging/linux/requirements-cpu.txt`).

`scripts/build` installs exactly these, so a new release of Qt, OpenCV or ONNX Runtime cannot change what
the program holds (or push it over its size limit) between two builds of the same commit. The file is
written from a build venv that built and passed the smoke test:

    python packaging/pyinstaller/build_lock.py write .venv-build-cpu/bin/python

Each pin carries the SHA-256 of every wheel the package index lists for that version, so the lock holds
on any Python and Linux machine the wheels exist for, not only the one that wrote it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = Path("packaging/linux/requirements-cpu.txt")
INDEX_URL = "https://pypi.org/simple/{name}/"
# What the venv brings itself, never a requirement of the program.
NOT_PINNED = frozenset({"pip", "setuptools", "wheel"})
HEADER = (
    "# The Linux CPU build's requirements, pinned with the SHA-256 of every wheel of each version\n"
    "# (scripts/build installs exactly these; docs/packaging.md). Written by\n"
    "#   python packaging/pyinstaller/build_lock.py write .venv-build-cpu/bin/python\n"
)


@dataclass(frozen=True)
class Pin:
    name: str  # normalised: lower case, runs of -_. as one -
    version: str
    hashes: tuple[str, ...]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_from_freeze(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(name, version) of each `name==version` line of `pip freeze`, sorted, the venv's own tools left out;
    an editable or direct-URL line (the app itself) is skipped."""
    pins = []
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line.strip())
        if match and normalise(match.group(1)) not in NOT_PINNED:
            pins.append((normalise(match.group(1)), match.group(2)))
    return sorted(pins)


def wheel_hashes(name: str, version: str, index: dict) -> tuple[str, ...]:
    """SHA-256 of each wheel of `version` in a PEP 691 JSON index page; ValueError when there is none."""
    stem = re.sub(r"[-_.]+", "_", name).lower()
    found = []
    for entry in index.get("files", []):
        filename = entry.get("filename", "")
        parts = filename.split("-")
        if (
            filename.endswith(".whl")
            and len(parts) >= 5
            and parts[0].lower() == stem
            and parts[1] == version
            and not entry.get("yanked")
            and "sha256" in entry.get("hashes", {})
        ):
            found.append(entry["hashes"]["sha256"])
    if not found:
        raise ValueError(f"the index lists no wheel of {name} {version}")
    return tuple(sorted(set(found)))


def fetch_index(name: str) -> dict:
    request = urllib.request.Request(
        INDEX_URL.format(name=name), headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def lock(pins: Iterable[tuple[str, str]], fetch: Callable[[str], dict] = fetch_index) -> list[Pin]:
    return [Pin(name, version, wheel_hashes(name, version, fetch(name))) for name, version in pins]


def render(pins: Iterable[Pin]) -> str:
    blocks = []
    for pin in pins:
        lines = [f"{pin.name}=={pin.version}", *(f"    --hash=sha256:{h}" for h in pin.hashes)]
        blocks.append(" \\\n".join(lines))
    return HEADER + "\n".join(blocks) + "\n"


def parse(text: str) -> dict[str, Pin]:
    """The pins of a lock file by normalised name; ValueError for a line that is not one."""
    joined = re.sub(r"\\\n\s*", " ", text)
    pins: dict[str, Pin] = {}
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)", line)
        if not match:
            raise ValueError(f"not a pinned, hashed requirement: {line!r}")
        hashes = tuple(re.findall(r"sha256:([0-9a-f]{64})", match.group(3)))
        pins[normalise(match.group(1))] = Pin(normalise(match.group(1)), match.group(2), hashes)
    return pins


def main(argv: list[str]) -> int:
    """`write VENV_PYTHON`: the lock file from what that venv holds."""
    if len(argv) != 2 or argv[0] != "write":
        print(main.__doc__, file=sys.stderr)
        return 2
    freeze = subprocess.run(
        [argv[1], "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    root = Path(__file__).resolve().parents[2]
    (root / LOCK_FILE).write_text(render(lock(pins_from_freeze(freeze.splitlines()))), encoding="utf-8")
    print(root / LOCK_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
