"""How long a read of a server project takes to fail when the server vanishes (its packets stop, no
reset ever comes): the bound the libpq keepalives and `tcp_user_timeout` give (app/core/project/engine.py).

Runs a throwaway PostgreSQL server and the reads inside a private network namespace, whose loopback
it takes down; needs root, `unshare` and the server binaries (scripts/start-postgres finds them):

    sudo unshare -n python -m bench.server_vanish [--cap 120]

Two cases: `busy`, the server vanishes while a query runs (the client waits for its answer); `idle`, it
vanishes while the connection sits in the pool, and the next read finds out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PORT = "55499"


def _link(up: bool) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up" if up else "down"], check=True)


def _case(url: str, mode: str, cap: float) -> dict[str, object]:
    """Seconds from the loss of the link to the read's error (None: still waiting after `cap`)."""
    from app.core.errors import ProjectError
    from app.core.project import Project

    out: dict[str, object] = {"case": mode, "failed_after_s": None, "error": ""}
    project = Project.create(url) if mode == "busy" else Project.open(url)
    project.assets()  # a connection made and back in the pool
    start = [time.monotonic()]

    def read() -> None:
        try:
            with project._read() as conn:
                conn.execute(sa.text("SELECT pg_sleep(3)" if mode == "busy" else "SELECT 1"))
        except ProjectError as exc:
            out["failed_after_s"] = round(time.monotonic() - start[0], 1)
            out["error"] = str(exc).split(": ", 1)[-1]

    if mode == "busy":
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(1)  # the query runs on the server now
        start[0] = time.monotonic()
        _link(False)
    else:
        _link(False)
        start[0] = time.monotonic()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
    reader.join(cap)
    _link(True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_vanish", description=__doc__)
    parser.add_argument("--cap", type=float, default=120.0, help="give up waiting after this many seconds")
    args = parser.parse_args(argv)
    _link(True)
    with tempfile.TemporaryDirectory(prefix="corroscope-vanish-") as tmp:
        Path(tmp).chmod(0o755)  # the server runs as `postgres` when we are root
        data = Path(tmp) / "pg"
        start = [str(ROOT / "scripts" / "start-postgres"), str(data), PORT]
        base = subprocess.run(start, check=True, capture_output=True, text=True).stdout.strip()
        try:
            results = []
            for mode in ("busy", "idle"):  # busy makes the project, idle opens it
                results.append(_case(base.rsplit("/", 1)[0] + "/postgres", mode, args.cap))
        finally:
            _link(True)
            subprocess.run([*start[:1], "--stop", str(data)], check=False)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
