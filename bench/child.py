"""Run a bench module in a fresh interpreter and read the JSON record it prints last."""

from __future__ import annotations

import json
import subprocess
import sys


def run_json_child(module: str, args: list[str], timeout: float, env: dict | None = None) -> dict:
    """`python -m module args...`; its last stdout line is a JSON object. A failure raises with its stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
