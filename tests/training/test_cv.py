"""training.cv on tiny data: the folds (sizes, strata, seed, every photo once), a 2-fold run of a 1-epoch
tiny model (every photo scored once out of fold, at the run's input size), then the levers and the
comparison on its output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import CorroscopeError
from training import compare, cv, data, levers
from training.cv import make_folds
from training.wrapped import Wrapped


def _keys(n: int, seed: int = 0) -> dict[str, float]:
    return {f"p{i:03d}": float(v) for i, v in enumerate(np.random.default_rng(seed).uniform(size=n))}


@pytest.mark.parametrize(("n", "k"), [(194, 5), (23, 5), (10, 2), (7, 3)])
def test_folds_hold_every_photo_once_in_near_equal_sizes(n, k):
    keys = _keys(n)
    folds = make_folds(keys, k, seed=0)
    assert len(folds) == k
    flat = [i for f in folds for i in f]
    assert sorted(flat) == sorted(keys) and len(flat) == len(set(flat))
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1


def test_folds_are_stratified_by_the_key():
    """Each run of k photos in key order lands one per fold: every fold gets small and large shares."""
    keys = _keys(100)
    folds = make_folds(keys, 5, seed=3)
    ordered = sorted(keys, key=lambda i: (keys[i], i))
    fold_of = {i: j for j, f in enumerate(folds) for i in f}
    for start in range(0, 100, 5):
        assert sorted(fold_of[i] for i in ordered[start : start + 5]) == [0, 1, 2, 3, 4]
    lowest = set(ordered[:20])
    assert all(len(lowest & set(f)) == 4 for f in folds)


def test_folds_are_fixed_by_the_seed():
    keys = _keys(40)
    assert make_folds(keys, 5, 7) == make_folds(dict(reversed(list(keys.items()))), 5, 7)
    assert make_folds(keys, 5, 7) != make_folds(keys, 5, 8)


def test_folds_refuse_what_cannot_be_split():
    with pytest.raises(CorroscopeError, match="at least 2"):
        make_folds(_keys(10), 1, 0)
    with pytest.raises(CorroscopeError, match="cannot fill"):
        make_folds(_keys(3), 5, 0)


TINY = [
    "--arch",
    "unet",
    "--model-setting",
    "base_filters=4",
    "--model-setting",
    "depth=2",
    "--epochs",
    "1",
    "--batch-size",
    "4",
    "--crop",
    "32",
    "--input-size",
    "64",
    "--lr",
    "3e-3",
]


@pytest.fixture(scope="module")
def tiny_cv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data folder, CV out folder) of a finished 2-fold run over 8 synthetic photos."""
    from tests.training.conftest import write_dataset

    root = tmp_path_factory.mktemp("cv")
    data_dir = write_dataset(root / "data", 8, 64, "origin", seed=300)
    assert cv.main(["--data", str(data_dir), "--folds", "2", "--out", str(root / "run"), "--", *TINY]) == 0
    return data_dir, root / "run"


@pytest.mark.slow
def test_two_fold_run_scores_every_photo_once_out_of_fold(tiny_cv):
    _, run = tiny_cv
    oof = json.loads((run / "oof.json").read_text())
    folds = json.loads((run / "folds.json").read_text())["folds"]
    ids = [r["id"] for r in oof["photos"]]
    assert sorted(ids) == [f"{i:03d}" for i in range(8)] and oof["n_photos"] == 8
    for row in oof["photos"]:
        assert row["id"] in folds[row["fold"]]  # scored by the model that did not train on it
        assert len(row["confusion"]) == 3 and sum(map(sum, row["confusion"])) == 64 * 64
    assert sorted(r["id"] for r in oof["fit_photos"]) == sorted(ids)  # 2 folds: each photo trains once
    for row in oof["fit_photos"]:
        assert row["id"] not in folds[row["fold"]]
    for k in range(2):
        split = json.loads((run / f"fold{k}" / "split.json").read_text())
        assert sorted(split["val"]) == folds[k] and not set(split["train"]) & set(folds[k])
        saved = np.load(run / f"fold{k}" / "oof-probs.npz")
        assert sorted(saved["ids"]) == folds[k]
        # scored at the run's --input-size (64), not at the training crop (32)
        assert saved["probs"].shape == (len(folds[k]), 64, 64, 3) and saved["probs"].dtype == np.uint8


@pytest.mark.slow
def test_kept_probabilities_are_the_pipelines_own_from_one_network_pass(tiny_cv):
    from app.core.inference import InferenceOptions, segment
    from app.core.photos import read_image
    from training.evaluate import load_predictor

    data_dir, run = tiny_cv
    pairs = data.select(data.find_pairs(data_dir), json.loads((run / "folds.json").read_text())["folds"][0])
    model_path = run / "fold0" / "best.keras"
    passes = []
    counted = lambda model: _Counting(model, passes)  # noqa: E731
    rows, probs = cv.score_fold(model_path, pairs, 0, True, counted)
    assert len(rows) == len(pairs) and len(passes) == len(pairs)  # one network pass a photo
    model = load_predictor(model_path).model
    for pair, kept in zip(pairs, probs, strict=True):
        seg = segment(model, read_image(pair.image), InferenceOptions())
        assert np.abs(kept.astype(int) - np.rint(seg.probabilities * 255)).max() <= 1


class _Counting(Wrapped):
    def __init__(self, model, passes: list) -> None:
        super().__init__(model)
        self._passes = passes

    def predict(self, batch: np.ndarray, *args) -> np.ndarray:
        self._passes.append(len(batch))
        return self._inner.predict(batch, *args)


@pytest.mark.slow
def test_levers_write_a_cv_folder_that_compares_with_the_base(tiny_cv, tmp_path: Path, capsys):
    data_dir, run = tiny_cv
    out = tmp_path / "flip-guided"
    argv = [str(run), "--data", str(data_dir), "--lever", "flip", "--lever", "guided", "--out", str(out)]
    assert levers.main(argv) == 0
    base, lever = json.loads((run / "oof.json").read_text()), json.loads((out / "oof.json").read_text())
    assert [(r["id"], r["fold"]) for r in lever["photos"]] == [(r["id"], r["fold"]) for r in base["photos"]]
    assert lever["levers"] == ["flip", "guided"] and lever["fit_photos"] == []
    assert compare.main([str(run), str(out), "--draws", "200"]) == 0
    assert "B - A (paired)" in capsys.readouterr().out
    other = [str(run), "--data", str(data_dir), "--lever", "flip", "--out", str(out)]
    assert levers.main(other) == 2  # rows of another lever set would mix


@pytest.mark.slow
def test_an_ensemble_of_runs_on_the_same_folds_is_scored_and_other_folds_are_refused(tiny_cv, tmp_path: Path):
    data_dir, run = tiny_cv
    out = tmp_path / "ensemble"
    # the run averaged with itself: the same probabilities, so the same masks and figures
    assert levers.main([str(run), "--data", str(data_dir), "--member", str(run), "--out", str(out)]) == 0
    base, ens = json.loads((run / "oof.json").read_text()), json.loads((out / "oof.json").read_text())
    assert ens["members"] == [str(run)] and ens["levers"] == []
    assert [r["confusion"] for r in ens["photos"]] == [r["confusion"] for r in base["photos"]]
    for k in range(2):  # kept for calibrating the ensemble's range (training.model_figures --cv)
        kept, held = np.load(out / f"fold{k}" / "oof-probs.npz"), np.load(run / f"fold{k}" / "oof-probs.npz")
        assert list(kept["ids"]) == list(held["ids"])
        assert np.abs(kept["probs"].astype(int) - held["probs"]).max() <= 1
    other = tmp_path / "other-folds"
    other.mkdir()
    folds = json.loads((run / "folds.json").read_text())
    (other / "folds.json").write_text(json.dumps({**folds, "folds": folds["folds"][::-1]}))
    refused = [str(run), "--data", str(data_dir), "--member", str(other), "--out", str(tmp_path / "x")]
    assert levers.main(refused) == 2  # its networks trained on this run's test photos
    with pytest.raises(SystemExit):
        levers.main([str(run), "--data", str(data_dir), "--out", str(tmp_path / "y")])  # nothing to apply


@pytest.mark.slow
def test_each_fold_network_embeds_every_photo_once_and_keeps_it(tiny_cv):
    from training.embedding_signals import EMBEDDINGS, fold_embeddings

    data_dir, run = tiny_cv
    ids, vectors = fold_embeddings(run, data_dir, 0)
    assert sorted(ids) == [f"{i:03d}" for i in range(8)]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (run / "fold0" / EMBEDDINGS).is_file()
    again_ids, again = fold_embeddings(run, data_dir, 0)  # from the cache, the same
    assert again_ids == ids and np.allclose(again, vectors)
