"""The corrosion/asset split drawn at the model's expected share (a model whose metadata asks for it).

Over the pipe's pixels, the network's class probabilities say how much of the asset it expects to be
corroded: the sum of p(corrosion) over the sum of p(corrosion) + p(asset). The plain argmax paints each
pixel its likelier class, which pushes the share towards the majority (a pipe whose every pixel is 60 %
likely rust is painted 100 % corroded). Here the pipe stays where the argmax puts it, and its pixels
likeliest corrosion (relative to asset) are painted corrosion, as many as the expected share says; mask,
areas, share and grade then agree with each other and with the expectation. Out of fold, on the origin's
194 photos, this brought the share about a point closer to the inspectors' (models/MODEL_CARD.md, lever
table); the shipped files do not ask for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from app.core.palette import ClassInfo

METADATA_KEY = "corroscope.split"  # "expected-share"; absent or "argmax": each pixel's likelier class
ARGMAX, EXPECTED_SHARE = "argmax", "expected-share"
SPLITS = (ARGMAX, EXPECTED_SHARE)


def read_split(metadata: Mapping[str, str]) -> str:
    """The model's split from its metadata; an unknown value is refused (a newer file than this app)."""
    value = (metadata.get(METADATA_KEY) or ARGMAX).strip()
    if value not in SPLITS:
        raise ValueError(f"{METADATA_KEY} is {value!r}; this version of Corroscope knows {', '.join(SPLITS)}")
    return value


def _ids(classes: Sequence[ClassInfo]) -> tuple[int, int] | None:
    by_name = {c.name: c.id for c in classes}
    if "corrosion" not in by_name or "asset" not in by_name:
        return None
    return by_name["corrosion"], by_name["asset"]


def expected_share(probs: np.ndarray, classes: Sequence[ClassInfo]) -> float | None:
    """The share (% of the asset) the probabilities H x W x C expect over the argmax's pipe pixels;
    None without corrosion and asset classes or without a pipe pixel."""
    ids = _ids(classes)
    return None if ids is None else _expected(probs, probs.argmax(axis=-1), *ids)


def _expected(probs: np.ndarray, top: np.ndarray, c: int, a: int) -> float | None:
    pipe = (top == c) | (top == a)
    corroded, asset = float(probs[..., c][pipe].sum()), float(probs[..., a][pipe].sum())
    return None if corroded + asset <= 0 else 100.0 * corroded / (corroded + asset)


def split_at_expected_share(probs: np.ndarray, classes: Sequence[ClassInfo]) -> np.ndarray:
    """The probabilities with the corrosion and asset values swapped on the pipe pixels whose split
    changes, so that the argmax paints the expected share: of the pipe's pixels, those likeliest
    corrosion relative to asset are corrosion, as many as the expected share says. The pipe itself, and
    each pixel's top probability (its confidence), stay as they were; unchanged when nothing to split."""
    ids = _ids(classes)
    if ids is None:
        return probs
    c, a = ids
    top = probs.argmax(axis=-1)  # once: the pipe and the expected share both come from it
    target = _expected(probs, top, c, a)
    if target is None:
        return probs
    pipe = np.flatnonzero((top == c) | (top == a))
    p_c, p_a = probs[..., c].ravel()[pipe], probs[..., a].ravel()[pipe]
    ratio = p_c / np.maximum(p_c + p_a, 1e-12)
    k = round(target / 100.0 * pipe.size)
    corroded = np.zeros(pipe.size, bool)
    if k > 0:
        corroded[np.argpartition(-ratio, k - 1)[:k]] = True
    flip = pipe[corroded != (top.ravel()[pipe] == c)]
    if flip.size == 0:
        return probs
    out = probs.copy()
    flat = out.reshape(-1, out.shape[-1])
    flat[flip, c], flat[flip, a] = flat[flip, a], flat[flip, c]  # fancy indexing reads copies
    return out
