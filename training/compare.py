"""Compare two cross-validated recipes photo by photo: `python -m training.compare RUN_A RUN_B`.

Each RUN is a `training.cv` out folder (or its `oof.json`). Every figure is given with a bootstrap 95 %
interval (photos resampled with replacement, a fixed seed), and with two runs the **paired** difference
B - A: both runs' figures computed on the same resampled photos, so what the photos have in common
cancels. The runs must hold the same photos in the same folds. The training-photo figures (`fit_photos`:
each fold's model on its own training photos, averaged per photo over the folds that trained on it) are
given beside the cross-validated ones: the gap between them is what does not carry to unseen photos.
With one RUN, its figures alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import CorroscopeError
from app.core.files import atomic_write_bytes, refuse_existing
from training.bootstrap import FIGURES, Figure, PhotoFigures, compute, paired_difference, resample

log = logging.getLogger("training.compare")

OOF = "oof.json"
DRAWS = 10_000


@dataclass(frozen=True)
class Run:
    """One cross-validated run: its out-of-fold figures and its training-photo figures, by photo."""

    path: Path
    recipe: list[str]
    ids: tuple[str, ...]
    folds: tuple[int, ...]
    cv: PhotoFigures
    fit: PhotoFigures | None


def load_run(path: Path) -> Run:
    """A `training.cv` folder or its `oof.json`; refuses a file that is not one, saying why."""
    file = path / OOF if path.is_dir() else path
    if not file.is_file():
        raise CorroscopeError(f"{path}: no {OOF} (a finished `python -m training.cv` run writes it)")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        rows = sorted(raw["photos"], key=lambda r: r["id"])
        classes = list(raw["classes"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorroscopeError(f"{file}: not a training.cv {OOF} ({exc})") from exc
    ids = tuple(r["id"] for r in rows)
    if len(set(ids)) != len(ids):
        raise CorroscopeError(f"{file}: a photo appears twice among the out-of-fold rows")
    fit_rows = raw.get("fit_photos") or []
    fit = PhotoFigures.from_rows(fit_rows, classes) if fit_rows else None
    folds = tuple(int(r["fold"]) for r in rows)
    return Run(
        file.parent, list(raw.get("recipe", [])), ids, folds, PhotoFigures.from_rows(rows, classes), fit
    )


def check_paired(a: Run, b: Run) -> None:
    """Refuse runs that do not hold the same photos in the same folds (their difference is not paired)."""
    if a.ids != b.ids:
        only_a, only_b = sorted(set(a.ids) - set(b.ids)), sorted(set(b.ids) - set(a.ids))
        raise CorroscopeError(
            f"the runs hold different photos (only in A: {only_a[:5]}{'...' if len(only_a) > 5 else ''}; "
            f"only in B: {only_b[:5]}{'...' if len(only_b) > 5 else ''}): compare runs of the same data"
        )
    moved = [i for i, fa, fb in zip(a.ids, a.folds, b.folds, strict=True) if fa != fb]
    if moved:
        raise CorroscopeError(
            f"{len(moved)} photos lie in different folds (e.g. {moved[0]}): run both recipes with the same "
            "--folds and --fold-seed"
        )


def compare(a: Run, b: Run | None, draws: int = DRAWS, seed: int = 0) -> dict:
    """Every figure of A (and B, and B - A) with its interval; what `--json` writes."""
    n = len(a.ids)
    draw = resample(n, draws, seed)
    figures = []
    for fig in FIGURES:
        entry: dict = {"key": fig.key, "label": fig.label, "better": fig.better}
        on_a = compute(fig, a.cv, draw)
        entry["a"] = on_a.estimate().to_json()
        entry["a_fit"] = _fit(fig, a.fit, draws, seed)
        if b is not None:
            on_b = compute(fig, b.cv, draw)
            entry["b"] = on_b.estimate().to_json()
            entry["b_fit"] = _fit(fig, b.fit, draws, seed)
            entry["b_minus_a"] = paired_difference(on_a, on_b).to_json()
        figures.append(entry)
    runs = {"a": _describe(a)} | ({"b": _describe(b)} if b is not None else {})
    return {"runs": runs, "n_photos": n, "draws": draws, "seed": seed, "interval": 0.95, "figures": figures}


def _describe(run: Run) -> dict:
    return {"path": str(run.path), "recipe": run.recipe, "folds": len(set(run.folds))}


def _fit(fig: Figure, fit: PhotoFigures | None, draws: int, seed: int) -> dict | None:
    if fit is None:
        return None
    return compute(fig, fit, resample(len(fit.ids), draws, seed)).estimate().to_json()


def _cell(e: dict | None, signed: bool = False) -> str:
    if e is None or e["value"] is None:
        return "-"
    sign = "+" if signed else ""
    value = f"{e['value']:{sign}.1f}"
    if e.get("low") is None:
        return value
    return f"{value} [{e['low']:{sign}.1f}, {e['high']:{sign}.1f}]"


def _verdict(fig: dict) -> str:
    d = fig["b_minus_a"]
    if d["low"] is None or not d["excludes_zero"]:
        return "no"
    b_better = (d["value"] > 0) == (fig["better"] == "higher")
    return "yes, B better" if b_better else "yes, A better"


def _gap(cv: dict, fit: dict | None) -> str:
    if fit is None or fit["value"] is None or cv["value"] is None:
        return "-"
    return f"{fit['value'] - cv['value']:+.1f}"


def markdown(result: dict) -> str:
    """The comparison as Markdown tables: the figures, then each run's fit gap."""
    two = "b" in result["runs"]
    runs = ["a", "b"] if two else ["a"]
    names = ", ".join(f"{r.upper()} = `{result['runs'][r]['path']}`" for r in runs)
    lines = [
        f"Runs: {names}",
        "",
        f"{result['n_photos']} photos, out of fold; bootstrap 95 % intervals over "
        f"photos ({result['draws']} draws, seed {result['seed']}).",
        "",
    ]
    if two:
        lines += ["| figure | A | B | B - A (paired) | interval excludes 0 |", "|---|---:|---:|---:|---|"]
        for f in result["figures"]:
            row = [f["label"], _cell(f["a"]), _cell(f["b"]), _cell(f["b_minus_a"], True), _verdict(f)]
            lines.append("| " + " | ".join(row) + " |")
    else:
        lines += ["| figure | A | photos |", "|---|---:|---:|"]
        lines += [f"| {f['label']} | {_cell(f['a'])} | {f['a']['n']} |" for f in result["figures"]]
    head = " | ".join(f"{r.upper()} CV | {r.upper()} training photos | {r.upper()} gap" for r in runs)
    lines += [
        "",
        "Training-photo figures (each fold's model on its own training photos) and the gap",
        "",
        f"| figure | {head} |",
        "|---|" + "---:|" * (3 * len(runs)),
    ]
    for f in result["figures"]:
        cells = []
        for r in runs:
            cells += [_cell(f[r]), _cell(f[f"{r}_fit"]), _gap(f[r], f[f"{r}_fit"])]
        lines.append(f"| {f['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, overwrite: bool) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.splitlines()[0])
    p.add_argument("run_a", type=Path, metavar="RUN_A", help="a training.cv out folder (or its oof.json)")
    p.add_argument("run_b", type=Path, nargs="?", metavar="RUN_B", help="the run to compare with RUN_A")
    p.add_argument("--draws", type=int, default=DRAWS, help=f"bootstrap draws (default {DRAWS})")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap draws")
    p.add_argument("--markdown", type=Path, help="also write the tables to this Markdown file")
    p.add_argument("--json", type=Path, help="also write every figure and interval to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace existing --markdown / --json files")
    a = p.parse_args(argv)
    if a.draws < 100:
        p.error(f"--draws must be at least 100, got {a.draws}")
    try:
        for out in (a.markdown, a.json):
            if out is not None:
                refuse_existing(out, overwrite=a.overwrite, how="pass --overwrite to replace it")
        run_a = load_run(a.run_a)
        run_b = load_run(a.run_b) if a.run_b is not None else None
        if run_b is not None:
            check_paired(run_a, run_b)
        result = compare(run_a, run_b, a.draws, a.seed)
        text = markdown(result)
        sys.stdout.write(text)
        if a.markdown is not None:
            _write(a.markdown, text, a.overwrite)
        if a.json is not None:
            _write(a.json, json.dumps(result, indent=1) + "\n", a.overwrite)
    except (CorroscopeError, OSError) as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
