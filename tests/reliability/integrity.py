"""Checks on an output folder after a fault: every file under its final name is whole."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from app.core.outlock import LOCK_NAME
from app.core.photos import read_image


def assert_only_whole_files(out: Path, temp_files_allowed: bool) -> None:
    """Every PNG decodes, every JSON parses into a record, the CSV parses; hidden `.part` temp files and
    the lock file (what a kill during a write leaves; the next run removes them) only where allowed."""
    if not out.exists():
        return
    for f in sorted(out.iterdir()):
        if f.name.startswith("."):
            ours = f.name.endswith(".part") or f.name == LOCK_NAME
            assert temp_files_allowed and ours, f"unexpected file {f.name}"
        elif f.suffix == ".png":
            assert read_image(f).size > 0
        elif f.name == "results.json":  # the run record beside results.csv
            record = json.loads(f.read_text(encoding="utf-8"))
            assert record["model"]["sha256"] and record["columns"], f.name
        elif f.suffix == ".json":
            record = json.loads(f.read_text(encoding="utf-8"))
            assert record["model_sha256"] and record["file"], f.name
        elif f.suffix == ".csv":
            with open(f, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows and all(len(r) == len(rows[0]) for r in rows), f.name
        elif f.suffix == ".pdf":
            data = f.read_bytes()
            assert data.startswith(b"%PDF") and b"%%EOF" in data[-1024:], f.name
        else:
            raise AssertionError(f"unexpected file {f.name}")


def snapshot(out: Path) -> dict[str, tuple[int, int, str]]:
    """name -> (size, mtime_ns, sha256) of the visible files: shows any rewrite, even of equal bytes."""
    return {
        f.name: (f.stat().st_size, f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
        for f in sorted(out.iterdir())
        if not f.name.startswith(".")
    }
