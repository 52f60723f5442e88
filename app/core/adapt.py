"""Site adaptation: refit a model's final classifier(s) to an inspector's reviewed masks (no TensorFlow).

The graph is copied in memory with each classifier's input feature map as an extra output; ONNX Runtime
runs it on the reviewed photos (as resize mode feeds them); `adapt_fit` refits each classifier on a
class-balanced sample of the reviewed pixels; leave-one-out over the reviewed photos says whether that
helps (share error and ASTM D610 grade agreement, base against adapted); the new weights go into a copy
of the file with its provenance, written atomically, never over the base model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from app.core import contract
from app.core.adapt_checks import (
    Distinct,
    bad_masks_text,
    check_output,
    distinct_photos,
    masks_phrase,
    named_few,
)
from app.core.adapt_fit import CancelCheck, Classifier, fit_classifier, probabilities
from app.core.adapt_heads import AdaptRefused, Head, find_heads, head_tensors, read_head
from app.core.adapt_masks import MaskAgreement, agreement, check_conventions, confusion
from app.core.adapt_metadata import adaptation_metadata
from app.core.adapt_record import KEY_ADAPTATION, earlier_steps, used_before
from app.core.adapt_scores import LooFigures, figures, predicted_share, share_of
from app.core.errors import Cancelled, ModelFileChanged, ReviewedMaskError
from app.core.files import atomic_write_bytes, sha256_file
from app.core.inference import network_input, shrink_area
from app.core.mask_folder import MaskFolder
from app.core.model import SegmentationModel
from app.core.onnx_edit import ModelBytes
from app.core.photo_decode import start_decode
from app.core.picture_key import seen_before
from app.core.reviewed import ReviewedMask, read_reviewed_mask
from app.core.text import counted, safe_path

__all__ = ["KEY_ADAPTATION", "AdaptRefused", "AdaptResult", "AdaptSettings", "adapt_model", "reviewed_pairs"]

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
class AdaptResult:
    """`photos`: distinct photos fitted on (`fitted_on` in words); `loo_over`: what leave-one-out scored
    ("5 reviewed photos"); `notes`: what the user should know (copies left out, photos used before, masks
    that look odd, fewer grades right)."""

    path: Path
    base: LooFigures
    adapted: LooFigures
    photos: int
    metadata: dict
    loo_over: str = ""
    notes: tuple[str, ...] = ()
    fitted_on: str = ""  # "5 reviewed photos", or "7 photos with corrected masks (0 of them signed)"


@dataclass(frozen=True, eq=False)
class _Photo:
    net_input: np.ndarray  # the photo as the network sees it (H x W x 3 uint8)
    features: list[np.ndarray]  # per head, K x h x w
    base_probs: np.ndarray  # H x W x C, the base model's own output
    targets: np.ndarray  # C x h x w class fractions of the reviewed mask
    sample: np.ndarray  # flat indices into h x w of the fit's sample
    true_share: float | None
    provenance: dict
    agreement: MaskAgreement | None = None  # the mask against the base model's prediction


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
    base_sha256: str | None = None,
) -> AdaptResult:
    """Adapt `base_path` to the reviewed (photo, mask) pairs and write the new model to `out`
    (`loaded`: that file already loaded on the CPU, not loaded again; `base_sha256`: the model the user
    has loaded, which the file must still hold). `AdaptRefused` says why not (nothing written),
    `ModelFileChanged` when the file holds another model; `Cancelled` when `cancelled()` turns true."""
    settings = settings or AdaptSettings()
    base_path, out = Path(base_path), Path(out)
    check_output(base_path, out, overwrite)
    distinct = distinct_photos(pairs)  # before counting: a copy is no second photo
    notes = [n for n in (distinct.note(),) if n]
    pairs = distinct.pairs
    least = max(2, settings.min_photos)  # leave-one-out needs one photo to fit on
    if len(pairs) < least:
        raise AdaptRefused(
            f"{counted(len(pairs), 'reviewed photo')}; adaptation needs at least {least} "
            "(review more photos first). The base model stays in use." + _also(notes)
        )
    base = loaded or SegmentationModel.load(base_path, device="cpu")
    data = base_path.read_bytes()  # the graph refit: the very model loaded, or none
    now = hashlib.sha256(data).hexdigest()
    for sha in dict.fromkeys(s for s in (base_sha256, base.sha256) if s):
        if now != sha:
            raise ModelFileChanged(safe_path(base_path.name), sha, now)
    steps, whole = earlier_steps(base.metadata)
    seen, seen_pictures = used_before(steps)  # by picture; by bytes where an older record has only those
    scored = [
        i
        for i, (sha, key) in enumerate(zip(distinct.sha256, distinct.keys, strict=True))
        if sha not in seen and not seen_before(key, seen_pictures)
    ]
    notes += _chain_notes(pairs, scored, whole)
    mb = ModelBytes(data)
    heads = find_heads(mb, base.num_classes)
    session = _feature_session(mb, heads)
    total = len(pairs) + len(scored) + 2
    report = _reporter(progress, total, cancelled)
    photos, bad = [], []
    for i, (photo, mask_path) in enumerate(pairs):
        report(i, f"Reading {safe_path(photo.name)}")
        with start_decode(photo, input_size=base.input_size, full_too=False) as decode:
            try:  # every mask is checked, so one refusal names all that cannot be used
                mask = read_reviewed_mask(mask_path, decode.size, base.classes, photo=photo)
            except ReviewedMaskError as exc:
                bad.append(exc)
                continue
            if bad:
                continue  # refused anyway: the rest are only checked, not run through the network
            # the network's input as analysis makes it (a large JPEG through its reduced decode), so the
            # refit classifier learns from the features it will meet
            view = decode.network_view()
        photos.append(_collect(session, base, heads, (photo, mask_path), mask, view, distinct, i, settings))
    if bad:
        raise AdaptRefused(bad_masks_text(bad, base.classes))
    _check_classes(photos, base, settings)
    warning = check_conventions([(p.provenance["photo"], p.agreement) for p in photos if p.agreement])
    notes += [warning] if warning else []
    start = [read_head(mb, h) for h in heads]
    base_loo, adapted_loo = _leave_one_out(photos, scored, start, base, settings, report, len(pairs))
    loo_over = _loo_over(photos, scored)
    if adapted_loo.share_error > base_loo.share_error:
        raise AdaptRefused(
            f"adapting would not help: leave-one-out over the {loo_over} gives a "
            f"corroded-share error of {adapted_loo.share_error:.2f} points against the base model's "
            f"{base_loo.share_error:.2f}. The base model stays in use." + _also(notes)
        )
    notes += _grades_note(base_loo, adapted_loo, loo_over)
    report(total - 2, "Fitting on every reviewed photo")
    fitted = _fit_all(photos, start, settings, cancelled)
    tensors: dict[str, np.ndarray] = {}
    for head, clf in zip(heads, fitted, strict=True):
        tensors.update(head_tensors(mb, head, clf))
    meta = adaptation_metadata(
        base, [p.provenance for p in photos], scored, (_signed(photos), _signed([photos[i] for i in scored])),
        (settings, base_loo, adapted_loo), steps, whole,
    )  # fmt: skip
    new = mb.edited(tensors, metadata={k: v for k, v in meta.items()})
    report(total - 1, "Checking the new model")
    _check_edit(new, photos[0], fitted, base.input_size)
    atomic_write_bytes(out, new, overwrite=overwrite)
    fitted_on = masks_phrase(len(photos), _signed(photos))
    return AdaptResult(out, base_loo, adapted_loo, len(pairs), meta, loo_over, tuple(notes), fitted_on)


def _grades_note(base: LooFigures, adapted: LooFigures, over: str) -> list[str]:
    """A share that comes closer while fewer grades agree: adapted (the share is the steadier figure on a
    handful of photos), but the user is told to check the grades."""
    if adapted.d610_agreement >= base.d610_agreement:
        return []
    return [
        f"the ASTM D610 grade agreement fell from {100 * base.d610_agreement:.0f} to "
        f"{100 * adapted.d610_agreement:.0f} % over the {over}, while the corroded share came closer: "
        "check the grades of the next photos"
    ]


def _also(notes: Sequence[str]) -> str:
    return "".join(f" Also: {n}." for n in notes)


def _chain_notes(pairs: Sequence[tuple[Path, Path]], scored: Sequence[int], whole: bool) -> list[str]:
    """Photos an earlier adaptation of the base model used: fitted on again, but never scored (the
    base model has seen them, so neither figure would be held out); none new: refused."""
    notes = []
    if not whole:
        notes.append(
            "the base model says it was adapted, but its record of that is not fully readable: photos it "
            "was adapted on may be scored as new"
        )
    new = set(scored)
    again = [safe_path(photo.name) for i, (photo, _mask) in enumerate(pairs) if i not in new]
    if not scored:
        raise AdaptRefused(
            f"all {counted(len(pairs), 'photo')} were used by an earlier adaptation of this model (the "
            "same pictures), so leave-one-out has no photo the model has not seen. Add newly reviewed "
            "photos, or adapt the model it was adapted from on all of them. The base model stays in use."
        )
    if again:
        notes.append(
            f"{counted(len(again), 'photo')} ({named_few(again)}) {'was' if len(again) == 1 else 'were'} "
            "used by an earlier adaptation of the base model: fitted on again, but left out of the "
            "leave-one-out figures (the base model has seen them)"
        )
    return notes


def _loo_over(photos: Sequence[_Photo], scored: Sequence[int]) -> str:
    """ "5 reviewed photos", or "4 reviewed photos new to the base model (of 10)"."""
    phrase = masks_phrase(len(scored), _signed([photos[i] for i in scored]))
    return phrase if len(scored) == len(photos) else f"{phrase} new to the base model (of {len(photos)})"


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


def _collect(
    session, base: SegmentationModel, heads, pair: tuple[Path, Path], mask: ReviewedMask,
    view: np.ndarray, distinct: Distinct, i: int, settings,
) -> _Photo:  # fmt: skip
    photo, mask_path = pair
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
    agrees = agreement(confusion(labels, base_probs.argmax(axis=-1), base.num_classes), base.classes)
    review = mask.review
    provenance = {
        "photo": photo.name,
        "sha256": distinct.sha256[i],
        "picture": distinct.keys[i].to_json(),  # what "already used" compares: the picture, not its bytes
        "mask": mask_path.name,
        "mask_sha256": mask.sha256 or sha256_file(mask_path),  # of the bytes read, not read again
        "reviewed_by": review.reviewed_by if review else "",
        "reviewed_at": review.reviewed_at if review else "",
        "pixels": counts,
        "base_model_agreement": asdict(agrees),
    }
    # seeded by the picture itself, so the sample (and what is accepted) never depends on the photos'
    # names or order
    rng = np.random.default_rng([settings.seed, int(_picture_id(provenance), 16)])
    sample = _balanced_sample(targets, settings.pixels_per_class, rng)
    return _Photo(net_input, features, base_probs, targets, sample, share_of(counts), provenance, agrees)


def _picture_id(provenance: dict) -> str:
    """The photo's pixels' SHA-256 (its file's where it has none): what seeds and orders its sample."""
    return provenance["picture"]["pixels_sha256"] or provenance["sha256"]


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
    # one order whatever the names: the same fit, bit for bit
    photos = sorted(photos, key=lambda photo: _picture_id(photo.provenance))
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


def _leave_one_out(photos, scored, start, base, settings, report, done) -> tuple[LooFigures, LooFigures]:
    """Each photo in `scored` predicted by the base model and by one fitted on all the others."""
    before, after = [], []
    for n, i in enumerate(scored):
        report(done + n, f"Leave-one-out {n + 1} of {len(scored)}")
        rest = [p for j, p in enumerate(photos) if j != i]
        fitted = _fit_all(rest, start, settings, None)
        probs = probabilities(photos[i].features, fitted, base.input_size)
        before.append((predicted_share(photos[i].base_probs, base), photos[i].true_share))
        after.append((predicted_share(probs, base), photos[i].true_share))
    return figures(before), figures(after)


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
