"""Is a photo unlike the ones its network learned from? Two flag signals from each fold network's own view
of the photos: the encoder's deepest map averaged over the photo (DeepLab's image-pooling input).

- *novelty*: a held-out photo's mean cosine distance to its `K` nearest training photos of that fold;
- *neighbours' misses*: the mean out-of-fold share error of its `K` nearest photos of the *other* folds
  (labels of the other folds only, as the miss classifier of `training.flag_signals`).

Each fold's embeddings are computed once and kept beside its run (`foldK/embeddings.npz`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError
from training import data

EMBEDDINGS = "embeddings.npz"
POOL_LAYER = "aspp_pool"
K = 5


def fold_embeddings(cv: Path, data_dir: Path, fold: int) -> tuple[list[str], np.ndarray]:
    """(every photo's id, its unit-length embedding by fold `fold`'s network), cached in the fold."""
    run = cv / f"fold{fold}"
    cache = run / EMBEDDINGS
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return [str(i) for i in z["ids"]], z["vectors"]
    import keras

    from training.cv import scoring_model
    from training.models import load_model
    from training.train import CONFIG

    model = load_model(scoring_model(run))
    pooled = keras.Model(model.input, _deepest_map(model))
    size = int(json.loads((run / CONFIG).read_text(encoding="utf-8"))["input_size"])
    pairs = data.find_pairs(data_dir)
    ids, vectors = [], []
    for start in range(0, len(pairs), 16):
        chunk = pairs[start : start + 16]
        batch = np.stack([data.load_pair(p, size)[0] for p in chunk]).astype(np.float32)
        maps = np.asarray(pooled.predict(batch, verbose=0))
        vectors.append(maps.mean(axis=(1, 2)))
        ids += [p.id for p in chunk]
    out = np.concatenate(vectors)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    np.savez_compressed(cache, ids=np.array(ids), vectors=out.astype(np.float32))
    return ids, out


def _deepest_map(model) -> object:
    """DeepLab's encoder output (what its image pooling averages); otherwise (U-Net) the last map of the
    smallest size, the bottleneck."""
    names = {layer.name for layer in model.layers}
    if POOL_LAYER in names:
        return model.get_layer(POOL_LAYER).input
    maps = [layer.output for layer in model.layers if len(getattr(layer.output, "shape", ())) == 4]
    smallest = min(int(m.shape[1]) * int(m.shape[2]) for m in maps)
    return [m for m in maps if int(m.shape[1]) * int(m.shape[2]) == smallest][-1]


def embedding_signals(
    cv: Path, data_dir: Path, photo_ids: Sequence[str], folds: Sequence[int], errors: Sequence[float]
) -> dict[str, np.ndarray]:
    """Both signals (lower: trusted more) for the photos given (id, out-of-fold fold, share error)."""
    assignment = json.loads((cv / "folds.json").read_text(encoding="utf-8"))["folds"]
    fold_of = {pid: k for k, members in enumerate(assignment) for pid in members}
    error_of = dict(zip(photo_ids, errors, strict=True))
    novelty, neighbours = np.empty(len(photo_ids)), np.empty(len(photo_ids))
    for fold in sorted(set(folds)):
        ids, vectors = fold_embeddings(cv, data_dir, fold)
        index = {pid: i for i, pid in enumerate(ids)}
        trained = [index[p] for p in ids if fold_of.get(p) not in (None, fold)]
        scored = [p for p in ids if fold_of.get(p) not in (None, fold) and p in error_of]
        for j, (pid, f) in enumerate(zip(photo_ids, folds, strict=True)):
            if f != fold:
                continue
            if pid not in index:
                raise CorroscopeError(f"{pid} has no embedding in fold {fold}: another dataset?")
            v = vectors[index[pid]]
            distance = 1.0 - vectors[trained] @ v
            novelty[j] = np.sort(distance)[:K].mean()
            near = np.argsort(1.0 - vectors[[index[p] for p in scored]] @ v)[:K]
            neighbours[j] = np.mean([error_of[scored[i]] for i in near])
    return {
        f"novelty (distance to the {K} nearest training photos)": novelty,
        f"the {K} nearest other-fold photos' share error": neighbours,
    }
