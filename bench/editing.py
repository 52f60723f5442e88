"""Edit tools on a 12 MP label map: time per pointer move, per stroke, per fill and per undo/redo.

`python -m bench.editing [--size 4000x3000] [--repeat 5] [--json FILE]`: what the UI thread spends in
`app.core.editing` for each user action (the overlay redraw of the changed box comes on top), and the
bytes each undo step keeps (`step_mb`). The issue's limit is 50 ms per stroke on 12 MP; `--size 8660x5774`
is a 50 MP photo, where a thin stroke corner to corner once kept 100 MB of undo.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.core.editing import LabelEditor
from app.core.palette import DEFAULT_CLASSES


def _labels(h: int, w: int) -> np.ndarray:
    """A pipe band across a background with rust blobs: realistic region sizes for the fill tools."""
    yy, xx = np.mgrid[0:h, 0:w]
    labels = np.full((h, w), 2, np.uint8)
    band = np.abs((yy - h / 2) - 0.2 * (xx - w / 2)) < h * 0.25
    labels[band] = 1
    rng = np.random.default_rng(0)
    for _ in range(200):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(10, 120)
        y0, y1, x0, x1 = max(0, cy - r), min(h, cy + r), max(0, cx - r), min(w, cx + r)
        blob = labels[y0:y1, x0:x1]
        blob[(blob == 1) & ((yy[y0:y1, x0:x1] - cy) ** 2 + (xx[y0:y1, x0:x1] - cx) ** 2 < r * r)] = 0
    return labels


def _corner_to_corner(w: int, h: int, step: float) -> list[tuple[float, float]]:
    """A straight drag from the top left corner to the bottom right one, `step` pixels a move."""
    n = int(np.hypot(w, h) // step)
    return [((w - 1) * i / n, (h - 1) * i / n) for i in range(n + 1)]


def _path(w: int, h: int, n: int, step: float) -> list[tuple[float, float]]:
    """A wavy drag of n pointer moves, `step` pixels apart (a mouse reports a move every few pixels)."""
    x0, y0 = w * 0.1, h * 0.3
    return [(x0 + i * step, y0 + h * 0.1 * np.sin(i / 15.0)) for i in range(n)]


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    """What `fn` returns, and the milliseconds it took."""
    start = time.perf_counter()
    out = fn()
    return out, 1000.0 * (time.perf_counter() - start)


def _ms(fn: Callable[[], object]) -> float:
    return _timed(fn)[1]


def _mb(step: object) -> float:
    """The bytes an undo step keeps, in MB (0 for no step)."""
    return 0.0 if step is None else getattr(step, "nbytes", 0) / 1e6


def _stroke_times(editor: LabelEditor, path, radius: float, class_id: int | None) -> dict[str, float]:
    if class_id is None:  # the eraser restores the model's labels: paint over them first
        editor.stroke(path, radius, 0)
    moves = []
    begin = _ms(lambda: editor.begin_stroke(path[0], radius, class_id))
    for p in path[1:]:
        moves.append(_ms(lambda p=p: editor.extend_stroke(p)))
    step, end = _timed(editor.end_stroke)
    stats = _ms(lambda: editor.stats(DEFAULT_CLASSES))
    return {
        "step_mb": _mb(step),
        "move_median_ms": statistics.median(moves),
        "move_max_ms": max(moves),
        "begin_ms": begin,
        "end_ms": end,
        "stroke_total_ms": begin + sum(moves) + end,
        "figures_ms": stats,
    }


def run(h: int, w: int, repeat: int) -> dict:
    labels = _labels(h, w)
    editor = LabelEditor(labels.copy())
    rows: dict[str, list[dict[str, float]]] = {}
    cases = {
        "brush r=10, 200 moves of 8 px": (_path(w, h, 200, 8.0), 10, 0),
        "brush r=60, 200 moves of 8 px": (_path(w, h, 200, 8.0), 60, 0),
        "brush r=200, 100 moves of 30 px": (_path(w, h, 100, 30.0), 200, 2),
        "eraser r=60, 200 moves of 8 px": (_path(w, h, 200, 8.0), 60, None),
        "brush r=5, corner to corner, 16 px": (_corner_to_corner(w, h, 16.0), 5, 0),
    }
    for _ in range(repeat):
        for name, (path, radius, cls) in cases.items():
            fresh = LabelEditor(labels.copy())  # every stroke paints over the model's labels
            rows.setdefault(name, []).append(_stroke_times(fresh, path, radius, cls))
    out: dict[str, dict[str, float]] = {}
    for name, runs in rows.items():
        out[name] = {
            k: max(r[k] for r in runs) if "max" in k else statistics.median(r[k] for r in runs)
            for k in runs[0]
        }
    singles: dict[str, list[float]] = {}
    step_mb: dict[str, float] = {}
    for _ in range(repeat):
        lasso = [(w * 0.2 + 900 * np.cos(t), h * 0.5 + 900 * np.sin(t)) for t in np.linspace(0, 6.2, 400)]
        step, ms = _timed(lambda lasso=lasso: editor.fill_polygon(lasso, 1))
        singles.setdefault("polygon fill (lasso, 2.5 MP)", []).append(ms)
        step_mb["polygon fill (lasso, 2.5 MP)"] = _mb(step)
        singles.setdefault("undo (that polygon)", []).append(_ms(editor.undo))
        singles.setdefault("redo (that polygon)", []).append(_ms(editor.redo))
        editor.undo()  # the next repeat fills the same pixels again
        step, ms = _timed(lambda: editor.flood_fill((5, 5), 1))
        singles.setdefault("flood fill (background, 3 MP)", []).append(ms)
        step_mb["flood fill (background, 3 MP)"] = _mb(step)
        singles.setdefault("undo (that fill)", []).append(_ms(editor.undo))
    for name, times in singles.items():
        out[name] = {"median_ms": statistics.median(times), "max_ms": max(times)}
        if name in step_mb:
            out[name]["step_mb"] = step_mb[name]
    return {"size": f"{w}x{h}", "repeat": repeat, "undo_bytes": editor.undo_bytes, "cases": out}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.editing", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT of the label map (default 12 MP)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    a = p.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    result = run(h, w, a.repeat)
    print(f"label map {result['size']}, {a.repeat} repeats (median; max for *_max)")
    for name, figures in result["cases"].items():
        print(f"  {name:34s} " + "  ".join(f"{k} {v:7.2f}" for k, v in figures.items()))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
