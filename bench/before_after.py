"""Before/after in one run: the engines benchmark on two source trees, alternating, under the same load.

    git archive main | tar -x -C /tmp/before          # the code to compare against
    python -m bench.before_after --before /tmp/before --model M --photos DIR --out DIR --rounds 3

Each round runs `bench.engines` once with the old tree first on the import path, once with this one (in
that order, then the other order next round, so a load that grows or fades hits both alike), and prints
one JSON object: every run's row, and per side the median wall and CPU ms a photo, with `uptime`'s load
average at the start and end. On a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from bench.child import run_json_child

HERE = Path(__file__).resolve().parents[1]


def _load() -> list[float]:
    return list(os.getloadavg())


def _run(tree: Path, engine_args: list[str], timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), str(HERE)]))
    # bench.engines comes from this tree (HERE, after `tree`) only when the old tree lacks it.
    return run_json_child("bench.engines", engine_args, timeout, env=env)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.before_after")
    p.add_argument("--before", type=Path, required=True, help="a source tree of the old code")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--engine", default="pipelined")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--timeout", type=float, default=600.0)
    a = p.parse_args(argv)
    engine_args = ["--model", str(a.model.resolve()), "--photos", str(a.photos.resolve())]
    engine_args += ["--out", str(a.out.resolve()), "--engine", a.engine, "--overlay", "jpeg"]
    sides = {"before": a.before.resolve(), "after": HERE}
    rows: list[dict] = []
    load_start = _load()
    for i in range(a.rounds):
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        for side in order:
            row = _run(sides[side], engine_args, a.timeout)
            rows.append({"side": side, "round": i, "load": _load(), **row})
            print(json.dumps(rows[-1]), file=sys.stderr)
    summary = {
        side: {
            "ms_per_photo_median": statistics.median(r["ms_per_photo"] for r in rows if r["side"] == side),
            "cpu_ms_per_photo_median": statistics.median(
                r["cpu_ms_per_photo_this_process"] for r in rows if r["side"] == side
            ),
        }
        for side in sides
    }
    print(json.dumps({"load_start": load_start, "load_end": _load(), "summary": summary, "runs": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
