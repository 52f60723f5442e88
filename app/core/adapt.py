"""Site adaptation: refit a model's final classifier(s) to an inspector's reviewed masks (no TensorFlow).

The graph is copied in memory with each classifier's input feature map as an extra output; ONNX Runtime
runs it on the reviewed photos (as resize mode feeds them); `adapt_fit` refits each classifier on a
class-balanced sample of the reviewed pixels; leave-one-out over the reviewed photos says whether that
helps (share error and ASTM D610 grade agreement, base against adapted); the new weights go into a copy
of the file with its provenance, written atomically, never over the base model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from app.core import contract
from app.core.adapt_checks import check_output, masks_phrase
from app.core.adapt_fit import CancelCheck, Classifier, fit_classifier, probabilities
from app.core.adapt_heads import AdaptRefused, Head, find_heads, head_tensors, read_head
from app.core.errors import Cancelled, ReviewedMaskError
from app.core.files import atomic_write_bytes
from app.core.grading import GradeScale, grade
from app.core.inference import network_input, shrink_area
from app.core.model import SegmentationModel
from app.core.model_accuracy import LEAVE_ONE_OUT, ModelAccuracy
from app.core.onnx_edit import ModelBytes
from app.core.photo_decode import start_decode
from app.core.reviewed import MaskFolder, read_reviewed_mask
from app.core.stats import corroded_share
from app.core.text import counted

__all__ = ["KEY_ADAPTATION", "AdaptRefused", "AdaptResult", "AdaptSettings", "adapt_model", "reviewed_pairs"]

log = logging.getLogger(__name__)
KEY_ADAPTATION = "corroscope.adaptation"
Progress = Callable[[int, int, str], None]  # (done, total, what is being done)
# Mean gap between the written file's probabilities and numpy's (int8 files round their weights).
CHECK_TOLERANCE = 0.02


@dataclass(frozen=True)
class AdaptSettings:
    """`min_photos`: fewer reviewed photos are refused (on the benchmark's site 3 photos made the model
    worse more often than leave-one-out could tell);
    `min_class_pixels`: a class painted on fewer pixels of all the masks together counts as never painted;
    `l2`: pull towards the base weights, relative to the features' mean squared norm (chosen by
    `bench.adapt_sweep`: see docs/performance.md); `steps`: most L-BFGS iterations; `pixels_per_class`:
    the most feature pixels per class and photo in the fit's sample; `class_balance`: 1 weighs every
    class the same in the loss, 0 as often as the masks paint it; `fit_bias` False keeps the base bias."""

    min_photos: int = 5
    min_class_pixels: int = 100
    l2: float = 2e-3
    steps: int = 100
    pixels_per_class: int = 200
    seed: int = 0
    class_balance: float = 1.0
    fit_bias: bool = True


@dataclass(frozen=True)
class LooFigures:
    """Over the reviewed photos: mean absolute corroded-share error (points) and D610 grade agreement."""

    share_error: float
    d610_agreement: float
    photos: int
    errors: tuple[float, ...] = ()  # each photo's absolute share error, points


@dataclass(frozen=True)
class AdaptResult:
    path: Path
    base: LooFigures
    adapted: LooFigures
    photos: int
    metadata: dict


@dataclass(frozen=True, eq=False)
class _Photo:
    net_input: np.ndarray  # the photo as the network sees it (H x W x 3 uint8)
    features: list[np.ndarray]  # per head, K x h x w
    base_probs: np.ndarray  # H x W x C, the base model's own output
    targets: np.ndarray  # C x h x w class fractions of the reviewed mask
    sample: np.ndarray  # flat indices into h x w of the fit's sample
    true_share: float | None
    provenance: dict


def reviewed_pairs(photos: Sequence[Path], mask_dir: Path) -> list[tuple[Path, Path]]:
    """(photo, mask) for every photo that `mask_dir` holds a mask for, named as `analyze
    --reviewed-masks` reads them."""
    folder = MaskFolder(mask_dir)
    pairs = []
    for photo in photos:
        found = folder.find(photo.stem, photo)
        if found is not None:
            pairs.append((Path(photo), found))
    return pairs


def adapt_model(
    base_path: Path,
    pairs: Sequence[tuple[Path, Path]],
    out: Path,
    settings: AdaptSettings | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    loaded: SegmentationModel | None = None,
) -> AdaptResult:
    """Adapt `base_path` to the reviewed (photo, mask) pairs and write the new model to `out`
    (`loaded`: that file already loaded on the CPU, not loaded again). `AdaptRefused` says why not
    (nothing written); `Cancelled` when `cancelled()` turns true."""
    settings = settings or AdaptSettings()
    base_path, out = Path(base_path), Path(out)
    check_output(base_path, out, overwrite)
    least = max(2, settings.min_photos)  # leave-one-out needs one photo to fit on
    if len(pairs) < least:
        raise AdaptRefused(
            f"{counted(len(pairs), 'reviewed photo')}; adaptation needs at least {least} "
            "(review more photos first). The base model stays in use."
        )
    base = loaded or SegmentationModel.load(base_path, device="cpu")
    data = base_path.read_bytes()
    mb = ModelBytes(data)
    heads = find_heads(mb, base.num_classes)
    session = _feature_session(mb, heads)
    total = 2 * len(pairs) + 2
    report = _reporter(progress, total, cancelled)
    rng = np.random.default_rng(settings.seed)
    photos = []
    for i, (photo, mask) in enumerate(pairs):
        report(i, f"Reading {photo.name}")
        photos.append(_collect(session, base, heads, photo, mask, settings, rng))
    _check_classes(photos, base, settings)
    start = [read_head(mb, h) for h in heads]
    base_loo, adapted_loo = _leave_one_out(photos, start, base, settings, report, len(pairs))
    if adapted_loo.share_error > base_loo.share_error:
        raise AdaptRefused(
            f"adapting would not help: leave-one-out over the {masks_phrase(len(pairs), _signed(photos))} "
            "gives a "
            f"corroded-share error of {adapted_loo.share_error:.2f} points against the base model's "
            f"{base_loo.share_error:.2f}. The base model stays in use."
        )
    report(total - 2, "Fitting on every reviewed photo")
    fitted = _fit_all(photos, start, settings, cancelled)
    tensors: dict[str, np.ndarray] = {}
    for head, clf in zip(heads, fitted, strict=True):
        tensors.update(head_tensors(mb, head, clf))
    meta = _metadata(base, photos, settings, base_loo, adapted_loo)
    new = mb.edited(tensors, metadata={k: v for k, v in meta.items()})
    report(total - 1, "Checking the new model")
    _check_edit(new, photos[0], fitted, base.input_size)
    atomic_write_bytes(out, new, overwrite=overwrite)
    return AdaptResult(out, base_loo, adapted_loo, len(pairs), meta)


def _signed(photos: Sequence[_Photo]) -> int:
    """How many masks name their reviewer (an unsigned one's record has none, `ReviewState`)."""
    return sum(1 for p in photos if p.provenance["reviewed_by"].strip())


def _reporter(progress: Progress | None, total: int, cancelled: CancelCheck | None):
    def report(done: int, what: str) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled("Adaptation cancelled.")
        if progress is not None:
            progress(done, total, what)

    return report


def _feature_session(mb: ModelBytes, heads: Sequence[Head]):
    import onnxruntime as ort

    data = mb.edited(outputs=[h.features for h in heads])
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _collect(session, base: SegmentationModel, heads, photo: Path, mask_path: Path, settings, rng) -> _Photo:
    # the network's input as analysis makes it (a large JPEG through its reduced decode), so the refit
    # classifier learns from the features it will meet
    with start_decode(photo, input_size=base.input_size, full_too=False) as decode:
        view, size = decode.network_view(), decode.size
    try:
        mask = read_reviewed_mask(mask_path, size, base.classes)
    except ReviewedMaskError as exc:
        raise AdaptRefused(
            f"{exc}. A mask must be in this model's class colours "
            f"({', '.join(c.name for c in base.classes)}); the base model stays in use."
        ) from exc
    net_input = network_input(view, base.input_size)
    outs = session.run(None, {contract.INPUT_NAME: net_input[None]})
    names = [o.name for o in session.get_outputs()]
    base_probs = outs[names.index(contract.PROBABILITIES_OUTPUT)][0]
    features = [outs[names.index(h.features)][0].astype(np.float32) for h in heads]
    h, w = features[0].shape[1:]
    labels = mask.labels
    targets = np.stack([shrink_area((labels == c.id).astype(np.uint8) * 255, w, h) for c in base.classes])
    targets = targets.astype(np.float32) / 255.0
    counts = {c.name: int(np.count_nonzero(labels == c.id)) for c in base.classes}
    review = mask.review
    provenance = {
        "photo": photo.name,
        "sha256": _sha256(photo),
        "mask": mask_path.name,
        "mask_sha256": _sha256(mask_path),
        "reviewed_by": review.reviewed_by if review else "",
        "reviewed_at": review.reviewed_at if review else "",
        "pixels": counts,
    }
    sample = _balanced_sample(targets, settings.pixels_per_class, rng)
    return _Photo(net_input, features, base_probs, targets, sample, _share(counts), provenance)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _share(counts: dict[str, int]) -> float | None:
    if "corrosion" not in counts or "asset" not in counts:
        return None
    return corroded_share(counts["corrosion"], counts["asset"])


def _balanced_sample(targets: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `per_class` feature pixels of each class (by majority), so a rare class counts."""
    hard = targets.reshape(len(targets), -1).argmax(axis=0)
    picks = []
    for c in range(len(targets)):
        idx = np.flatnonzero(hard == c)
        if len(idx) > per_class:
            idx = rng.choice(idx, per_class, replace=False)
        picks.append(idx)
    return np.sort(np.concatenate(picks))


def _check_classes(photos: Sequence[_Photo], base: SegmentationModel, settings: AdaptSettings) -> None:
    for c in base.classes:
        painted = sum(p.provenance["pixels"][c.name] for p in photos)
        if painted < settings.min_class_pixels:
            raise AdaptRefused(
                f"no reviewed mask paints the class {c.name!r} ({painted} pixels in all); adaptation "
                "would forget it. Review photos that show it. The base model stays in use."
            )


def _fit_all(
    photos: Sequence[_Photo], start: Sequence[Classifier], settings: AdaptSettings, cancelled
) -> list[Classifier]:
    weight = _sample_weights(photos, settings.class_balance)
    y = np.concatenate([p.targets.reshape(len(p.targets), -1)[:, p.sample].T for p in photos])
    fitted = []
    for i, clf in enumerate(start):
        x = np.concatenate([p.features[i].reshape(len(p.features[i]), -1)[:, p.sample].T for p in photos])
        fitted.append(
            fit_classifier(x, y, weight, clf, settings.l2, settings.steps, cancelled, settings.fit_bias)
        )
    return fitted


def _sample_weights(photos: Sequence[_Photo], balance: float) -> np.ndarray:
    """Each sampled pixel's weight: the number of its photo's pixels of that
    class it stands for (the sample caps each class), times that class's total to the power -balance."""
    classes = len(photos[0].targets)
    hards, weights = [], []
    for p in photos:
        every = p.targets.reshape(classes, -1).argmax(axis=0)
        hard = every[p.sample]
        sampled = np.maximum(np.bincount(hard, minlength=classes), 1)
        stands_for = np.bincount(every, minlength=classes) / sampled
        hards.append(hard)
        weights.append(stands_for[hard])
    hard, weight = np.concatenate(hards), np.concatenate(weights)
    totals = np.bincount(hard, weights=weight, minlength=classes)
    return weight * np.maximum(totals[hard], 1.0) ** -balance


def _figures(pairs: Sequence[tuple[float | None, float | None]]) -> LooFigures:
    """(predicted share, reviewed share) per photo -> mean error and D610 agreement (shares known)."""
    known = [(p, t) for p, t in pairs if p is not None and t is not None]
    if not known:
        return LooFigures(0.0, 1.0, 0)
    errors = tuple(round(abs(p - t), 4) for p, t in known)
    same = [grade(p, GradeScale.ASTM_D610).value == grade(t, GradeScale.ASTM_D610).value for p, t in known]
    return LooFigures(float(np.mean(errors)), float(np.mean(same)), len(known), errors)


def loo_accuracy(figures: LooFigures, signed: int | None = None) -> ModelAccuracy | None:
    """The adapted model's typical error as every screen states it: its leave-one-out over the photos
    it was adapted on (a small sample, and it says so), never the base model's validation figures.
    `signed`: how many of their masks are signed (None: all)."""
    if not figures.errors:
        return None
    errors = np.array(figures.errors)
    masks = masks_phrase(figures.photos, figures.photos if signed is None else signed)
    try:
        return ModelAccuracy(
            median_error=float(np.median(errors)),
            mean_error=float(errors.mean()),
            p90_error=float(np.percentile(errors, 90)),
            d610_same=figures.d610_agreement,
            photos=figures.photos,
            measured_on=f"{LEAVE_ONE_OUT} over the {masks} it was adapted on",
        )
    except ValueError as exc:  # one photo with a share, or none off at all: too few to state an error
        log.info("the adapted model states no accuracy: %s", exc)
        return None


def predicted_share(probs: np.ndarray, base: SegmentationModel) -> float | None:
    """The corroded share of the argmax of H x W x C probabilities."""
    counts = np.bincount(probs.argmax(axis=-1).ravel(), minlength=base.num_classes)
    return _share({c.name: int(counts[c.id]) for c in base.classes})


def _leave_one_out(photos, start, base, settings, report, done) -> tuple[LooFigures, LooFigures]:
    before, after = [], []
    for i, photo in enumerate(photos):
        report(done + i, f"Leave-one-out {i + 1} of {len(photos)}")
        rest = [p for j, p in enumerate(photos) if j != i]
        fitted = _fit_all(rest, start, settings, None)
        probs = probabilities(photo.features, fitted, base.input_size)
        before.append((predicted_share(photo.base_probs, base), photo.true_share))
        after.append((predicted_share(probs, base), photo.true_share))
    return _figures(before), _figures(after)


def _check_edit(new: bytes, photo: _Photo, fitted: Sequence[Classifier], size: tuple[int, int]) -> None:
    """Run the new file on the first reviewed photo and compare with what numpy computed from the
    features: a graph that does something else after its classifiers is refused, never written."""
    import onnxruntime as ort

    session = ort.InferenceSession(new, providers=["CPUExecutionProvider"])
    (got,) = session.run([contract.PROBABILITIES_OUTPUT], {contract.INPUT_NAME: photo.net_input[None]})
    want = probabilities(photo.features, fitted, size)
    gap = float(np.abs(got[0] - want).mean())
    if not gap < CHECK_TOLERANCE:
        raise AdaptRefused(
            f"the adapted file does not compute what the refit did (mean probability gap {gap:.3f}); "
            "this model's graph is not one adaptation understands. The base model stays in use."
        )


def _metadata(base: SegmentationModel, photos, settings, before: LooFigures, after: LooFigures) -> dict:
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    trained = base.metadata.get(contract.KEY_TRAINED_ON, "")
    signed = _signed(photos)
    accuracy = loo_accuracy(after, signed)
    adaptation = {
        "base_model": {"file": base.path.name, "sha256": base.sha256},
        "created": created,
        "photos": [p.provenance for p in photos],
        "settings": asdict(settings),
        "leave_one_out": {"base": asdict(before), "adapted": asdict(after)},
        "method": "final 1x1 classifier(s) refitted: multinomial logistic regression, class-balanced, "
        "L2 towards the base weights, L-BFGS",
    }
    return {
        contract.KEY_CREATED: created,
        contract.KEY_TRAINED_ON: f"{trained}; adapted to {masks_phrase(len(photos), signed)}",
        # the base model's validation figures and range calibration are not this model's: its own
        # leave-one-out error stands in for the first; photos get no range (and say why) without the second
        contract.KEY_METRICS: None,
        contract.KEY_SHARE_RANGE: None,
        contract.KEY_ACCURACY: None if accuracy is None else json.dumps(accuracy.to_json()),
        KEY_ADAPTATION: json.dumps(adaptation),
    }
