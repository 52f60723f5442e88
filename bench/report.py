"""Tables and the issue's goals, from the results dictionary of `bench.run`."""

from __future__ import annotations

from collections.abc import Sequence

GOAL_12MP_MS = 400.0
GOAL_50MP_PEAK_MB = 1536.0
GOAL_ORT_OVER_KERAS = 2.0
ENGINE_GOAL_CASE = "pipelined, JPEG, ORT threads tuned (analyze default)"  # bench.run.ENGINE_CASES
ENGINE_LONG_CASE = "pipelined, memory over many photos"
FLAT_TOLERANCE = 0.10  # RSS of the last tenth of a batch within 10 % of the first tenth

ENGINE_NAMES = {
    "keras_predict": "Keras predict",
    "keras_tf_function": "Keras tf.function",
    "ort_float": "ONNX Runtime float",
    "ort_int8": "ONNX Runtime int8",
    "ort_float_cuda": "ONNX Runtime float CUDA",
}


_MARKDOWN = [False]  # set while rendering markdown (docs/performance.md)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table (or a markdown one while `render(markdown=True)` runs); numbers right-aligned."""
    cells = [[_fmt(v) for v in row] for row in rows]
    if _MARKDOWN[0]:
        return "\n".join(
            [
                "| " + " | ".join(headers) + " |",
                "|" + "---|" * len(headers),
                *("| " + " | ".join(r) + " |" for r in cells),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(r[i], int | float) for r in rows) if rows else False for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return "" if v is None else str(v)


def goals(results: dict) -> dict:
    """Each goal of the issue that this run measured: the figure and whether it is met."""
    out: dict = {}
    for r in results.get("network", {}).get("ratios", []):
        if "best_keras_over_ort_float" in r:
            key = f"ort_vs_best_keras_{r['size']}_b{r['batch']}"
            best = max(r["best_keras_over_ort_float"], r.get("best_keras_over_ort_int8", 0.0))
            out[key] = {"ratio": best, "goal": GOAL_ORT_OVER_KERAS, "met": best >= GOAL_ORT_OVER_KERAS}
    for p in results.get("photos", []):
        if p["label"] == "12MP" and p["mode"] == "resize":
            ms = p["in_memory_ms"]
            out["12MP_resize_file_to_mask_stats_overlay_ms"] = {
                "value": ms,
                "goal": GOAL_12MP_MS,
                "met": ms < GOAL_12MP_MS,
            }
        if p["label"] == "50MP":
            mb = p["peak_rss_mb"]
            out[f"50MP_{p['mode']}_peak_rss_mb"] = {
                "value": mb,
                "goal": GOAL_50MP_PEAK_MB,
                "met": mb < GOAL_50MP_PEAK_MB,
            }
    for r in results.get("engines", []):
        if r["label"] == ENGINE_GOAL_CASE:
            ms = r["ms_per_photo"]
            out["12MP_all_outputs_pipelined_ms"] = {
                "value": ms,
                "goal": GOAL_12MP_MS,
                "met": ms <= GOAL_12MP_MS,
            }
        elif r["label"] == ENGINE_LONG_CASE and r.get("rss_max_first_half_mb"):
            growth = r["rss_max_second_half_mb"] / r["rss_max_first_half_mb"] - 1.0
            out["engines_long_run_rss_growth"] = {
                "value": growth,
                "goal": FLAT_TOLERANCE,
                "met": growth <= FLAT_TOLERANCE,
            }
    b = results.get("batch")
    if b and b.get("rss_first_tenth_mb"):
        growth = b["rss_last_tenth_mb"] / b["rss_first_tenth_mb"] - 1.0
        out["batch_rss_growth"] = {"value": growth, "goal": FLAT_TOLERANCE, "met": growth <= FLAT_TOLERANCE}
    return out


def render(results: dict, markdown: bool = False) -> str:
    _MARKDOWN[0] = markdown
    try:
        return _render(results)
    finally:
        _MARKDOWN[0] = False


def _render(results: dict) -> str:
    parts = [_header(results)]
    net = results.get("network")
    if net:
        parts.append(_network(net))
    if results.get("photos"):
        parts.append(_photos(results["photos"]))
    if results.get("batch"):
        b = results["batch"]
        parts.append(
            f"Batch of {b['photos']} photos ({b['photo_size']}, {b['mode']} mode, mask + overlay + JSON "
            f"written): {b['photos_per_s']:.2f} photos/s ({b['seconds']:.1f} s), peak RSS "
            f"{b['peak_rss_mb']:.0f} MB; RSS first tenth {b['rss_first_tenth_mb']:.0f} MB, last tenth "
            f"{b['rss_last_tenth_mb']:.0f} MB"
        )
    if results.get("engines"):
        parts.append(_engines(results["engines"]))
    if results.get("ui"):
        parts.append(_ui(results["ui"]))
    cuda = results.get("cuda", {})
    if not cuda.get("available"):
        parts.append(f"CUDA rows: none (no usable GPU here: {cuda.get('reason')})")
    if results.get("errors"):
        parts.append("ERRORS\n" + "\n".join(results["errors"]))
    if results.get("goals"):
        rows = [
            (k, _fmt(g.get("value", g.get("ratio"))), _fmt(g["goal"]), "yes" if g["met"] else "NO")
            for k, g in results["goals"].items()
        ]
        parts.append("Goals\n" + table(("goal", "measured", "target", "met"), rows))
    return "\n\n".join(parts)


def _header(results: dict) -> str:
    m = results["machine"]
    busy = m.get("other_busy_processes") or []
    load = "idle apart from the benchmark" if not busy else "UNDER LOAD: " + "; ".join(busy)
    return (
        f"Corroscope benchmarks{' (SMOKE: harness check only, not timings)' if results['smoke'] else ''}\n"
        f"{m['cpu']}, {m['logical_cores']} logical cores ({', '.join(m['isa'])}), {m['memory_gib']} GiB, "
        f"onnxruntime {m['onnxruntime']}\nload: {load}; load average at start {m.get('load_average_start')}"
    )


def _network(net: dict) -> str:
    limit = net["machine_limit"]
    rows = [
        (
            ENGINE_NAMES.get(r["engine"], r["engine"]),
            r["size"],
            r["batch"],
            r["median_ms"],
            r["ms_per_image"],
            r["gflops"],
            100.0 * r["gflops"] / limit["gflops_median"],
            r["runs"],
        )
        for r in net["rows"]
    ]
    flops = ", ".join(f"{k}: {v:.2f} GFLOP" for k, v in net["gflop_per_image"].items())
    agree = ", ".join(f"{k}: {v:.2f} %" for k, v in net["int8_argmax_agreement_percent"].items())
    text = [
        f"Network: {net['name']}; {flops} per image; int8 argmax agreement with float {agree}",
        f"Machine limit: {limit['op']}: {limit['gflops_median']:.1f} GFLOP/s (best run "
        f"{limit['gflops_best']:.1f})",
        table(("engine", "size", "batch", "median ms", "ms/image", "GFLOP/s", "% of limit", "runs"), rows),
    ]
    ratio_rows = [
        (
            r["size"],
            r["batch"],
            r["best_keras_ms"],
            r.get("best_keras_over_ort_float"),
            r.get("best_keras_over_ort_int8"),
            r.get("float_over_int8"),
        )
        for r in net["ratios"]
    ]
    text.append(
        table(
            ("size", "batch", "best Keras ms", "Keras/ORT float", "Keras/ORT int8", "float/int8"), ratio_rows
        )
    )
    return "\n".join(text)


def _photos(photos: list[dict]) -> str:
    from bench.pipeline import STAGES

    rows = [
        (
            p["label"],
            p["mode"],
            *(p["stages_ms"].get(s, float("nan")) for s in STAGES),
            p["in_memory_ms"],
            p["total_ms"],
            100.0 * p["outside_ort_share"],
            p["peak_rss_mb"],
        )
        for p in photos
    ]
    headers = ("photo", "mode", *STAGES, "in memory", "total", "% outside ORT", "peak MB")
    return "One photo, file to figures (median ms per stage; 'in memory' = all but write)\n" + table(
        headers, rows
    )


def median_rows(rows: list[dict]) -> list[dict]:
    """One row per label (in first-seen order): the round with the median ms/photo."""
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    out = []
    for runs in by_label.values():
        ranked = sorted(runs, key=lambda r: r["ms_per_photo"])
        out.append({**ranked[(len(ranked) - 1) // 2], "rounds_ms": [round(r["ms_per_photo"]) for r in runs]})
    return out


def _engines(rows: list[dict]) -> str:
    size = rows[0]["photo_size"]
    body = [
        (
            r["label"],
            r["photos"],
            r["ms_per_photo"],
            r["photos_per_s"],
            r["cpu_ms_per_photo_this_process"],
            " / ".join(map(str, r.get("rounds_ms", []))),
            r["run_s"],
            r["peak_rss_mb"],
            r["rss_max_first_half_mb"],
            r["rss_max_second_half_mb"],
        )
        for r in rows
    ]
    head = (
        "case",
        "photos",
        "ms/photo",
        "photos/s",
        "CPU ms/photo",
        "rounds ms",
        "run s",
        "peak RSS MB",
        "max RSS 1st half MB",
        "2nd half",
    )
    return (
        f"Batches of {size} JPEGs, resize mode, mask + overlay + JSON written (ms/photo: progress events "
        "2..N, the median round; CPU and RSS: this process, the Dask workers' own not included)\n"
        + table(head, body)
    )


def _first(f: dict | None) -> str:
    if not f:
        return ""
    return (
        f"A photo opened in the running window: on screen {f['photo_on_screen_s']:.2f} s, first figures on "
        f"screen {f['first_figures_on_screen_s']:.2f} s (median of {f['repeats']}), longest UI stall "
        f"{f['longest_ui_stall_ms']:.0f} ms\n"
    )


def _ui(ui: dict) -> str:
    c, s = ui["coldstart"], ui["stall"]
    nan = float("nan")
    return (
        f"Cold start (offscreen): first paint {c.get('first_paint_s', nan):.2f} s, model loaded "
        f"{c.get('model_loaded_s', nan):.2f} s, first result {c.get('first_result_s', nan):.2f} s "
        f"after process start\n"
        f"{_first(ui.get('first_figures'))}"
        f"UI thread during a batch of {s['photos']} photos ({s['photo_size']}): longest "
        f"stall {s['longest_stall_ms']:.0f} ms, {s['stalls_over_100ms']} stalls over 100 ms "
        f"({s['heartbeats']} heartbeats, {s['batch_seconds']:.1f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    """Print a results file again: `python -m bench.report bench/results.json [--markdown]`."""
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    p.add_argument("results", type=Path)
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    print(render(json.loads(args.results.read_text(encoding="utf-8")), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
