"""training.compare on fabricated oof.json files whose figures are known: identical runs, a run better on
every photo, the paired interval, the figures by hand, the training-photo figures, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training import compare
from training.metrics import class_scores

CLASSES = ["corrosion", "asset", "background"]


def _row(pid: str, fold: int, cm, share_pred=None, share_true=None, d610=(None, None)) -> dict:
    cm = np.asarray(cm)
    iou = class_scores(cm)["iou"]
    pipe = cm[:2, :2].sum() / (cm.sum() - cm[2, 2]) if cm.sum() > cm[2, 2] else None
    error = None if share_true is None else abs((share_pred or 0.0) - share_true)
    row = {
        "id": pid,
        "fold": fold,
        "confusion": cm.tolist(),
        "pipe_iou": pipe,
        "share_pred": share_pred,
        "share_true": share_true,
        "share_error": error,
    }
    row |= {"d610_pred": d610[0], "d610_true": d610[1]}
    return row | {f"{c}_iou": None if np.isnan(v) else float(v) for c, v in zip(CLASSES, iou, strict=True)}


def _cm(tp_corr: int, tp_asset: int, missed_asset: int = 0, bg: int = 50) -> list[list[int]]:
    """A confusion matrix: corrosion and asset found, some asset taken for background."""
    return [[tp_corr, 0, 2], [0, tp_asset, missed_asset], [1, 1, bg]]


def _write(folder: Path, rows: list[dict], fit: list[dict] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    oof = {
        "recipe": ["--epochs", "1"],
        "classes": CLASSES,
        "folds": 2,
        "photos": rows,
        "fit_photos": fit or [],
    }
    (folder / "oof.json").write_text(json.dumps(oof))
    return folder


def _photos(n: int = 12, seed: int = 0, better: int = 0) -> list[dict]:
    """n photos of varied quality; `better` adds that many true pixels to each class on every photo."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        corr, asset, missed = (int(v) for v in rng.integers(5, 40, 3))
        share_true = 100 * corr / (corr + asset + missed + 2)
        share_pred = share_true + float(rng.uniform(6, 20)) - better
        cm = _cm(corr + better, asset + better, missed)
        d610 = (int(share_pred // 10), int(share_true // 10))
        rows.append(_row(f"{i:03d}", i % 2, cm, share_pred, share_true, d610))
    return rows


def _figures(result: dict) -> dict[str, dict]:
    return {f["key"]: f for f in result["figures"]}


def test_identical_runs_differ_by_exactly_zero(tmp_path: Path, capsys):
    a, b = _write(tmp_path / "a", _photos()), _write(tmp_path / "b", _photos())
    md, js = tmp_path / "cmp.md", tmp_path / "cmp.json"
    argv = [str(a), str(b), "--draws", "500", "--markdown", str(md), "--json", str(js)]
    assert compare.main(argv) == 0
    result = json.loads(js.read_text())
    assert len(result["figures"]) == 13
    for fig in result["figures"]:
        d = fig["b_minus_a"]
        assert (d["value"], d["low"], d["high"], d["excludes_zero"]) == (0.0, 0.0, 0.0, False), fig["key"]
        assert fig["a"] == fig["b"]
    out = capsys.readouterr().out
    assert out == md.read_text() and "| corrosion IoU, per photo (%) |" in out


def test_a_run_better_on_every_photo_is_shown_better(tmp_path: Path):
    a = compare.load_run(_write(tmp_path / "a", _photos()))
    b = compare.load_run(_write(tmp_path / "b", _photos(better=5)))
    figs = _figures(compare.compare(a, b, draws=2000))
    for key in ("corrosion_iou", "asset_iou", "pooled_corrosion_iou", "pooled_asset_iou", "share_error_mean"):
        d = figs[key]["b_minus_a"]
        assert d["excludes_zero"], key
        assert compare._verdict(figs[key]) == "yes, B better", key
    assert figs["share_error_mean"]["b_minus_a"]["value"] == pytest.approx(-5.0)
    assert figs["share_error_mean"]["b_minus_a"]["high"] < 0
    reverse = _figures(compare.compare(b, a, draws=2000))
    assert compare._verdict(reverse["asset_iou"]) == "yes, A better"


def test_the_difference_is_paired(tmp_path: Path):
    """Photos that differ widely, B a little better on each: the two runs' intervals overlap, the paired
    difference's interval excludes zero."""
    rows_a, rows_b = [], []
    for i, q in enumerate(np.linspace(0.1, 0.9, 20)):
        base = {"corrosion_iou": q, "asset_iou": q, "pipe_iou": q}
        rows_a.append(_row(f"{i:02d}", i % 2, _cm(5, 5)) | base)
        rows_b.append(_row(f"{i:02d}", i % 2, _cm(5, 5)) | {k: v + 0.02 for k, v in base.items()})
    a, b = compare.load_run(_write(tmp_path / "a", rows_a)), compare.load_run(_write(tmp_path / "b", rows_b))
    fig = _figures(compare.compare(a, b, draws=2000))["asset_iou"]
    assert fig["b"]["low"] < fig["a"]["high"]  # unpaired, the intervals overlap
    assert fig["b_minus_a"]["value"] == pytest.approx(2.0)
    assert fig["b_minus_a"]["low"] == pytest.approx(2.0) and fig["b_minus_a"]["excludes_zero"]


def test_figures_by_hand(tmp_path: Path):
    rows = [
        _row("p1", 0, [[10, 0, 0], [0, 30, 10], [0, 0, 50]], 20.0, 25.0, (5, 5)),  # asset 40 % of pixels
        _row("p2", 1, [[5, 5, 0], [0, 2, 0], [5, 0, 83]], 60.0, 50.0, (3, 5)),  # asset 2 %
        _row("p3", 0, [[0, 0, 0], [0, 0, 0], [0, 0, 100]], None, None, (None, None)),  # no pipe
        _row("p4", 1, [[4, 0, 0], [0, 16, 0], [0, 0, 80]], 20.0, 20.0, (9, 8)),  # asset 16 %
    ]
    run = compare.load_run(_write(tmp_path / "a", rows))
    figs = _figures(compare.compare(run, None, draws=500))
    a = {k: f["a"] for k, f in figs.items()}
    # per photo: where defined (p3 has no corrosion or asset in truth or prediction)
    assert a["corrosion_iou"]["value"] == pytest.approx(100 * (1 + 5 / 15 + 1) / 3)
    assert a["corrosion_iou"]["n"] == 3
    assert a["asset_iou"]["value"] == pytest.approx(100 * (30 / 40 + 2 / 7 + 1) / 3)
    assert a["asset_iou_large"]["value"] == pytest.approx(100 * (30 / 40 + 1) / 2)
    assert a["asset_iou_large"]["n"] == 2
    # pooled: the summed confusion matrix
    assert a["pooled_asset_iou"]["value"] == pytest.approx(100 * 48 / (58 + 53 - 48))
    assert a["pooled_background_iou"]["value"] == pytest.approx(100 * 313 / (318 + 323 - 313))
    errors = [5.0, 10.0, 0.0]
    assert a["share_error_mean"]["value"] == pytest.approx(5.0)
    assert a["share_error_median"]["value"] == pytest.approx(np.median(errors))
    assert a["share_error_p90"]["value"] == pytest.approx(np.percentile(errors, 90))
    assert a["share_error_worst"]["value"] == pytest.approx(10.0)
    assert a["d610_equal"]["value"] == pytest.approx(100 / 3)
    assert a["d610_within_one"]["value"] == pytest.approx(200 / 3)
    for e in a.values():
        assert e["low"] <= e["value"] + 1e-9 and e["value"] <= e["high"] + 1e-9


def test_training_photo_figures_average_each_photo_over_its_folds(tmp_path: Path, capsys):
    rows = [_row("p1", 0, _cm(10, 10)) | {"asset_iou": 0.5}, _row("p2", 1, _cm(10, 10)) | {"asset_iou": 0.3}]
    fit = [
        _row("p1", 1, _cm(10, 10)) | {"asset_iou": 0.8},
        _row("p1", 2, _cm(10, 10)) | {"asset_iou": 0.6},
        _row("p2", 0, _cm(10, 10)) | {"asset_iou": 0.9},
    ]
    folder = _write(tmp_path / "a", rows, fit)
    result = compare.compare(compare.load_run(folder), None, draws=500)
    fig = _figures(result)["asset_iou"]
    assert fig["a"]["value"] == pytest.approx(40.0)
    assert fig["a_fit"]["value"] == pytest.approx((70 + 90) / 2)
    assert compare._gap(fig["a"], fig["a_fit"]) == "+40.0"
    assert compare.main([str(folder), "--draws", "500"]) == 0
    assert "| asset IoU, per photo (%) | 40.0 [" in capsys.readouterr().out


def test_refusals(tmp_path: Path, caplog):
    a = _write(tmp_path / "a", _photos())
    other_photos = _write(tmp_path / "b", _photos()[:-1])
    assert compare.main([str(a), str(other_photos)]) == 2
    assert "different photos" in caplog.text
    moved = _photos()
    moved[0]["fold"] = 1
    assert compare.main([str(a), str(_write(tmp_path / "c", moved))]) == 2
    assert "different folds" in caplog.text and "--fold-seed" in caplog.text
    assert compare.main([str(a), str(tmp_path / "nothing")]) == 2
    assert "no oof.json" in caplog.text
    out = tmp_path / "keep.json"
    out.write_text("mine")
    assert compare.main([str(a), "--json", str(out), "--draws", "100"]) == 2
    assert out.read_text() == "mine" and "--overwrite" in caplog.text
    assert compare.main([str(a), "--json", str(out), "--draws", "100", "--overwrite"]) == 0
    assert json.loads(out.read_text())["n_photos"] == 12
