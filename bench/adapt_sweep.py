"""Site adaptation settings swept on cached features: `bench.adapt`'s repainted site and draws, without
writing or running a model file per setting.

`python -m bench.adapt_sweep --sizes 5 10 --draws 3 --l2 0.001 0.1 1 --class-balance 0 1 [--keep-bias]
[--no-loo] [--json FILE]`: the decoder features of the 22 validation photos, repainted and unpainted,
are computed once by the shipped model; for each setting and draw (the photos `bench.adapt` draws with
the same seed) the classifiers are refitted by `app.core.adapt`'s own code (`_fit_all`, and
`_leave_one_out` for the refusal rule unless `--no-loo`) and the other photos are scored from the cached
features in numpy (`probabilities`, as the graph computes; float weights, where the written int8 file
rounds them). `bench.adapt` then checks the chosen setting with real files.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from app.core import contract
from app.core.adapt import AdaptSettings, _collect, _feature_session, _fit_all, _leave_one_out
from app.core.adapt_fit import probabilities
from app.core.adapt_heads import find_heads, read_head
from app.core.inference import network_input
from app.core.model import SegmentationModel
from app.core.onnx_edit import ModelBytes
from app.core.photos import read_image
from app.core.reviewed import read_reviewed_mask
from bench.adapt import ASSET, DEFAULT_DATA, DEFAULT_MODEL, _iou, _share, repaint


def _cache(model_path: Path, data: Path, work: Path) -> dict:
    """Per val photo: repainted `_Photo` (features, targets...), unpainted features, truth labels."""
    base = SegmentationModel.load(model_path, device="cpu")
    mb = ModelBytes(model_path.read_bytes())
    heads = find_heads(mb, base.num_classes)
    session = _feature_session(mb, heads)
    names = [o.name for o in session.get_outputs()]
    ids = (data / "val.txt").read_text().split()
    masks = data / "DATASET" / "ground_truth"
    site, plain, truths = {}, {}, {}
    rng = np.random.default_rng(0)
    for i in ids:
        rgb = read_image(data / "DATASET" / "original" / f"ORI_{i}.png")
        truths[i] = read_reviewed_mask(masks / f"GT_{i}.png").labels
        painted = work / f"ORI_{i}.png"
        cv2.imwrite(str(painted), cv2.cvtColor(repaint(rgb, truths[i]), cv2.COLOR_RGB2BGR))
        site[i] = _collect(session, base, heads, painted, masks / f"GT_{i}.png", AdaptSettings(), rng)
        outs = session.run(None, {contract.INPUT_NAME: network_input(rgb, base.input_size)[None]})
        plain[i] = [outs[names.index(h.features)][0].astype(np.float32) for h in heads]
    return {"base": base, "start": [read_head(mb, h) for h in heads], "ids": ids, "site": site,
            "plain": plain, "truths": truths}  # fmt: skip


def _score(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return abs(_share(labels) - _share(truth)), 100.0 * _iou(labels == ASSET, truth == ASSET)


def _labels(features, heads, base) -> np.ndarray:
    return probabilities(features, heads, base.input_size).argmax(axis=-1).astype(np.uint8)


def _resample(photo, settings: AdaptSettings, rng):
    from app.core.adapt import _balanced_sample

    return replace(photo, sample=_balanced_sample(photo.targets, settings.pixels_per_class, rng))


def run_setting(cache: dict, settings: AdaptSettings, sizes, draws: int, seed: int, loo: bool) -> dict:
    base, start, ids, truths = cache["base"], cache["start"], cache["ids"], cache["truths"]
    site_base = {i: _score(cache["site"][i].base_probs.argmax(-1).astype(np.uint8), truths[i]) for i in ids}
    plain_base = {i: _score(_labels(cache["plain"][i], start, base), truths[i]) for i in ids}
    draw_rng, sample_rng = np.random.default_rng(seed), np.random.default_rng(settings.seed)
    rows = []
    for n in sizes:
        for draw in range(draws):
            reviewed = sorted(draw_rng.choice(ids, n, replace=False).tolist())
            others = [i for i in ids if i not in reviewed]
            photos = [_resample(cache["site"][i], settings, sample_rng) for i in reviewed]
            t = time.perf_counter()
            refused = False
            if loo:
                before, after = _leave_one_out(photos, start, base, settings, lambda *a: None, 0)
                refused = after.share_error > before.share_error
            fitted = start if refused else _fit_all(photos, start, settings, None)
            site = [_score(_labels(cache["site"][i].features, fitted, base), truths[i]) for i in others]
            plain = [_score(_labels(cache["plain"][i], fitted, base), truths[i]) for i in others]
            row = {"reviewed": n, "draw": draw, "refused": refused, "seconds": time.perf_counter() - t,
                   "base_site": statistics.fmean(site_base[i][0] for i in others),
                   "base_plain": statistics.fmean(plain_base[i][0] for i in others),
                   "base_site_iou": statistics.fmean(site_base[i][1] for i in others),
                   "site": statistics.fmean(s[0] for s in site),
                   "site_iou": statistics.fmean(s[1] for s in site),
                   "plain": statistics.fmean(s[0] for s in plain)}  # fmt: skip
            row["won_back"] = (row["base_site"] - row["site"]) / (row["base_site"] - row["base_plain"])
            row["harm"] = row["plain"] - row["base_plain"]
            rows.append(row)
    return {"rows": rows, "summary": _summary(rows, sizes)}


def _summary(rows: list[dict], sizes) -> dict:
    out = {}
    for n in sizes:
        mine = [r for r in rows if r["reviewed"] == n]
        out[str(n)] = {k: round(statistics.fmean(r[k] for r in mine), 3)
                       for k in ("base_site", "site", "won_back", "base_plain", "plain", "harm", "refused",
                                 "base_site_iou", "site_iou", "seconds")}  # fmt: skip
        m = out[str(n)]  # what the means over draws win back (a draw's own ratio is noisy: small costs)
        m["won_back_of_means"] = round((m["base_site"] - m["site"]) / (m["base_site"] - m["base_plain"]), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--l2", type=float, nargs="+", default=[AdaptSettings().l2])
    parser.add_argument("--class-balance", type=float, nargs="+", default=[AdaptSettings().class_balance])
    parser.add_argument("--fit-bias", type=int, nargs="+", default=[1], help="1, 0 or both")
    parser.add_argument("--steps", type=int, nargs="+", default=[AdaptSettings().steps])
    parser.add_argument("--no-loo", action="store_true", help="skip the leave-one-out refusal rule")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-adapt-sweep-") as tmp:
        cache = _cache(args.model, args.data, Path(tmp))
    results = []
    grid = itertools.product(args.l2, args.class_balance, args.fit_bias, args.steps)
    for l2, balance, fit_bias, steps in grid:
        settings = AdaptSettings(l2=l2, class_balance=balance, fit_bias=bool(fit_bias), steps=steps)
        out = run_setting(cache, settings, args.sizes, args.draws, args.seed, not args.no_loo)
        entry = {"l2": l2, "class_balance": balance, "fit_bias": bool(fit_bias), "steps": steps, **out}
        print(json.dumps({k: v for k, v in entry.items() if k != "rows"}), flush=True)
        results.append(entry)
    if args.json:
        head = {"model": args.model.name, "draws": args.draws, "seed": args.seed, "loo": not args.no_loo}
        args.json.write_text(json.dumps({**head, "settings": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
