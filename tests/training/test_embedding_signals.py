"""The fold networks' view of a photo as a flag signal: novelty and the nearest other-fold photos' misses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.errors import CorroscopeError
from training.embedding_signals import EMBEDDINGS, K, embedding_signals


def _cv_with_embeddings(tmp_path, vectors: dict[str, list[float]], folds: list[list[str]]):
    cv = tmp_path / "cv"
    cv.mkdir()
    (cv / "folds.json").write_text(json.dumps({"folds": folds}), encoding="utf-8")
    ids = sorted(vectors)
    unit = np.array([vectors[i] for i in ids], dtype=np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    for k in range(len(folds)):  # every fold's network sees the photos alike here
        (cv / f"fold{k}").mkdir()
        np.savez_compressed(cv / f"fold{k}" / EMBEDDINGS, ids=np.array(ids), vectors=unit)
    return cv


def test_a_photo_unlike_the_training_photos_is_the_least_trusted(tmp_path) -> None:
    rng = np.random.default_rng(0)
    common = {f"p{i:02d}": list(np.r_[1.0, 0.1 * rng.standard_normal(3)]) for i in range(20)}
    common["odd"] = [0.0, 0.0, 0.0, 1.0]  # points away from every other photo
    folds = [sorted(common)[0::2], sorted(common)[1::2]]
    cv = _cv_with_embeddings(tmp_path, common, folds)
    ids = sorted(common)
    fold_of = {p: k for k, f in enumerate(folds) for p in f}
    errors = [30.0 if p in ("p01", "p03") else 1.0 for p in ids]
    found = embedding_signals(cv, tmp_path, ids, [fold_of[p] for p in ids], errors)
    novelty, neighbours = found.values()
    assert ids[int(np.argmax(novelty))] == "odd"
    assert np.all(novelty >= 0) and len(neighbours) == len(ids)
    # neighbours' misses: a photo's own error never counts, only other folds' photos
    alone = embedding_signals(cv, tmp_path, ids, [fold_of[p] for p in ids], [1.0] * len(ids))
    assert np.allclose(list(alone.values())[1], 1.0)
    assert max(neighbours) <= (2 * 30.0 + (K - 2) * 1.0) / K + 1e-9


def test_a_photo_without_an_embedding_is_named(tmp_path) -> None:
    cv = _cv_with_embeddings(tmp_path, {"a": [1, 0], "b": [0, 1]}, [["a"], ["b"]])
    with pytest.raises(CorroscopeError, match="c has no embedding"):
        embedding_signals(cv, tmp_path, ["c"], [0], [1.0])
