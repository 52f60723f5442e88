"""Smart select and select similar on synthetic photos whose true masks are known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.editing import LabelEditor
from app.core.select_similar import select_similar
from app.core.smart_select import (
    Marks,
    SmartSelectError,
    SmartSelectOptions,
    pipe_probability,
    smart_select,
)
from app.core.synthetic import synthetic_pipe
from tests.helpers.pipe_photos import two_pipes

CORROSION, ASSET, BACKGROUND = 0, 1, 2


def _pipe(labels: np.ndarray) -> np.ndarray:
    return labels != BACKGROUND


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def _soft(labels: np.ndarray, top: float = 0.8) -> np.ndarray:
    """Probabilities that put `top` on the given label and split the rest."""
    probs = np.full((*labels.shape, 3), (1.0 - top) / 2, np.float32)
    np.put_along_axis(probs, labels[:, :, None].astype(np.intp), top, axis=2)
    return probs


def _wrong_model(truth: np.ndarray) -> np.ndarray:
    """The truth with the model's typical error: a stretch of pipe called background, a patch of
    background called asset."""
    h, w = truth.shape
    labels = truth.copy()
    labels[:, int(w * 0.65) :][_pipe(truth)[:, int(w * 0.65) :]] = BACKGROUND
    ground = ~_pipe(truth)
    patch = np.zeros_like(ground)
    patch[: h // 5, : w // 5] = True
    labels[patch & ground] = ASSET
    return labels


def _box_of(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def test_a_box_snaps_the_pipe_region_to_the_photo_and_undo_restores_it():
    rgb, truth = synthetic_pipe(11, (120, 160))
    labels = _wrong_model(truth)
    probs = _soft(labels)
    probs[..., CORROSION] += 0.05 * (truth == CORROSION)  # the joined rust is a little more likely corrosion
    before_iou = _iou(_pipe(labels), _pipe(truth))
    edit = smart_select(rgb, labels, Marks(box=_box_of(_pipe(truth))), probabilities=probs)
    assert edit is not None and edit.kind == "smart select"
    editor = LabelEditor(labels.copy())
    assert editor.apply(edit) is not None
    after = editor.labels
    assert before_iou < 0.85 and _iou(_pipe(after), _pipe(truth)) > 0.97
    stayed = _pipe(labels) & _pipe(after)
    assert np.array_equal(after[stayed], labels[stayed]), "inside the region corrosion vs asset is kept"
    left = _pipe(labels) & ~_pipe(after)
    assert left.any() and (after[left] == BACKGROUND).all()
    joined = ~_pipe(labels) & _pipe(after)
    expected = np.where(probs[..., CORROSION] > probs[..., ASSET], CORROSION, ASSET)
    assert joined.any() and np.array_equal(after[joined], expected[joined])
    editor.undo()
    assert np.array_equal(editor.labels, labels)


def test_outside_the_box_is_background_and_clicks_mark_pipe_and_ground():
    rng = np.random.default_rng(1)
    rgb = np.empty((80, 120, 3), np.float32)
    rgb[:] = (90, 130, 80)
    rgb[20:60, 20:100] = (115, 125, 150)  # a steel plate in the middle of the ground
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    truth = np.full((80, 120), BACKGROUND, np.uint8)
    truth[20:60, 20:100] = ASSET
    labels = truth.copy()
    labels[:10, :10] = ASSET  # a false patch of asset in a corner
    labels[20:60, 80:100] = BACKGROUND  # a stretch of the plate missed
    edit = smart_select(rgb, labels, Marks(box=(15, 15, 105, 65)), probabilities=_soft(labels, 0.9))
    out = labels.copy()
    out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    assert np.array_equal(out, truth)

    # No box: a click on the stretch the model missed and a shift-click on its false patch.
    rgb, truth = synthetic_pipe(11, (120, 160))
    labels = _wrong_model(truth)
    ys, xs = np.nonzero(_pipe(truth) & ~_pipe(labels))
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    marks = Marks(include=(click,), exclude=((5.0, 5.0),))
    edit = smart_select(rgb, labels, marks, confidence=np.full(truth.shape, 150, np.uint8))
    found = labels.copy()
    found[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    assert _iou(_pipe(labels), _pipe(truth)) < 0.85 and _iou(_pipe(found), _pipe(truth)) > 0.95
    joined = _pipe(found) & ~_pipe(labels)
    near = np.where(truth[joined] == CORROSION, CORROSION, ASSET)
    assert np.mean(found[joined] == near) > 0.6, "no probabilities: joined pixels follow nearby pipe pixels"


def test_the_full_resolution_border_follows_the_photo_not_the_working_grid():
    rgb, truth = synthetic_pipe(5, (600, 800))
    labels = _wrong_model(truth)
    options = SmartSelectOptions(working_pixels=20_000)  # a 163x122 working copy: 5x smaller
    edit = smart_select(
        rgb, labels, Marks(box=_box_of(_pipe(truth))), probabilities=_soft(labels), options=options
    )
    out = labels.copy()
    out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    wrong = np.count_nonzero(_pipe(out) != _pipe(truth))
    border = np.count_nonzero(np.diff(_pipe(truth).astype(np.int8), axis=1))  # border pixels per row
    assert wrong < 1.5 * border, f"{wrong} wrong pixels for {border} border crossings"
    assert _iou(_pipe(out), _pipe(truth)) > 0.98


def test_a_box_dragged_up_and_left_is_the_same_box():
    assert Marks(box=(50, 40, 10, 5)).box == (10.0, 5.0, 50.0, 40.0)
    assert Marks(include=[(1, 2)]).include == ((1, 2),)


def test_pipe_probability_from_each_kind_of_model_output():
    labels = np.array([[0, 1, 2]], np.uint8)
    probs = np.array([[[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]]], np.float32)
    np.testing.assert_allclose(
        pipe_probability(labels, (1, 3), probabilities=probs)[0], [0.9, 0.7, 0.3], atol=1e-6
    )
    conf = np.array([[153, 127, 178]], np.uint8)  # 0.6, 0.5, 0.7
    got = pipe_probability(labels, (1, 3), confidence=conf)[0]
    np.testing.assert_allclose(got, [0.8, 0.75, 0.3], atol=0.01)
    np.testing.assert_allclose(pipe_probability(labels, (1, 3))[0], [0.7, 0.7, 0.3], atol=0.01)


def test_marks_that_cannot_work_are_refused_with_what_to_do():
    rgb, truth = synthetic_pipe(2, (60, 80))
    with pytest.raises(SmartSelectError, match="outside the photo"):
        smart_select(rgb, truth, Marks(box=(200, 200, 300, 300)))
    # inside the photo, narrower than one pixel of the copy it works on (a 4x quarter of the pixels here)
    few = SmartSelectOptions(working_pixels=60 * 80 // 16)
    with pytest.raises(
        SmartSelectError, match="too small to work on: drag one at least 4 photo pixels across"
    ):
        smart_select(rgb, truth, Marks(box=(40.2, 30.2, 41.0, 31.0)), options=few)
    with pytest.raises(SmartSelectError, match="nothing marks the pipe"):
        smart_select(
            rgb, np.full_like(truth, BACKGROUND), Marks(), confidence=np.full(truth.shape, 255, np.uint8)
        )
    all_pipe = np.full_like(truth, ASSET)
    with pytest.raises(SmartSelectError, match="nothing marks background"):
        smart_select(rgb, all_pipe, Marks(), confidence=np.full(truth.shape, 255, np.uint8))
    with pytest.raises(ValueError, match="differ in size"):
        smart_select(rgb, truth[:10], Marks())


def _rust_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, model labels, true labels): a steel band with a rust patch the model calls asset, and a
    rust-coloured patch of ground touching it."""
    rng = np.random.default_rng(0)
    h, w = 80, 120
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (90, 130, 80)  # ground
    rgb[20:60] = (115, 125, 150)  # steel
    truth = np.full((h, w), BACKGROUND, np.uint8)
    truth[20:60] = ASSET
    rgb[30:50, 30:60] = (165, 85, 40)  # rust on the pipe
    truth[30:50, 30:60] = CORROSION
    rgb[60:75, 30:60] = (165, 85, 40)  # rust-brown ground just below it
    rgb += rng.normal(0, 3, rgb.shape)
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    labels = truth.copy()
    labels[30:50, 30:60] = ASSET
    labels[30:34, 30:40] = CORROSION  # the model found a corner of it
    return rgb, labels, truth


def test_select_similar_grows_a_rust_patch_within_the_pipe_only():
    rgb, labels, truth = _rust_scene()
    edit = select_similar(rgb, labels, (45, 40), tolerance=12)
    assert edit is not None and edit.kind == "select similar"
    editor = LabelEditor(labels.copy())
    editor.apply(edit)
    assert np.array_equal(editor.labels, truth), "the patch joins corrosion; the rust-brown ground does not"
    editor.undo()
    assert np.array_equal(editor.labels, labels)


def test_select_similar_tolerance_and_probabilities_limit_the_region():
    rgb, labels, truth = _rust_scene()
    small = select_similar(rgb, labels, (45, 40), tolerance=0.5)
    assert small is None or small.changed_pixels < 20
    wide = select_similar(rgb, labels, (45, 40), tolerance=200)
    assert wide is not None and wide.changed_pixels == np.count_nonzero(labels == ASSET), (
        "tolerance: all pipe"
    )
    probs = _soft(truth)
    probs[30:50, 45:60, CORROSION] = 0.05  # the model rules out the right half of the patch
    half = select_similar(rgb, labels, (35, 40), tolerance=12, probabilities=probs)
    out = labels.copy()
    out[half.box[0] : half.box[2], half.box[1] : half.box[3]] = half.after
    assert (out[30:50, 30:45] == CORROSION).all() and (out[30:50, 45:60] == ASSET).all()
    with pytest.raises(SmartSelectError, match="click on a rust patch"):
        select_similar(rgb, labels, (5, 5))
    assert select_similar(rgb, labels, (500, 5)) is None


def test_the_networks_probabilities_from_segment_seed_smart_select(tiny_model):
    from app.core.inference import InferenceMode, InferenceOptions, segment

    rgb, truth = synthetic_pipe(4, (96, 128))
    seg = segment(tiny_model, rgb)
    assert seg.probabilities is not None and seg.probabilities.shape == (*tiny_model.input_size, 3)
    np.testing.assert_allclose(seg.probabilities.sum(axis=2), 1.0, atol=1e-4)
    fine = segment(tiny_model, rgb, InferenceOptions(mode=InferenceMode.TILES)).probabilities
    assert fine is not None and fine.shape[2] == 3  # tiles mode: over the whole photo at its fine grid
    labels = _wrong_model(seg.labels)
    edit = smart_select(rgb, labels, Marks(box=_box_of(_pipe(truth))), probabilities=seg.probabilities)
    out = labels.copy()
    out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    assert _iou(_pipe(labels), _pipe(truth)) < 0.85 and _iou(_pipe(out), _pipe(truth)) > 0.95


def test_at_full_resolution_nothing_outside_the_box_becomes_pipe():
    rgb, truth = synthetic_pipe(5, (600, 800))
    box = (100.0, 0.0, 500.0, 600.0)
    options = SmartSelectOptions(working_pixels=20_000)
    edit = smart_select(rgb, truth, Marks(box=box), probabilities=_soft(truth), options=options)
    out = truth.copy()
    out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    assert not _pipe(out)[:, :100].any() and not _pipe(out)[:, 500:].any()
    assert _iou(_pipe(out)[:, 130:470], _pipe(truth)[:, 130:470]) > 0.97


@pytest.mark.real_data
def test_one_box_per_validation_photo_improves_the_shipped_models_pipe_and_share():
    """The measurement of docs/performance.md ("Editing and smart select") in small: every validation
    photo, the ground-truth pipe's bounding box."""
    from pathlib import Path

    from PIL import Image

    from app.core.inference import segment
    from app.core.model import SegmentationModel, default_model_path
    from app.core.palette import decode_mask
    from app.core.stats import area_stats

    data = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pipe-corrosion"
    model_path = default_model_path("cpu")
    if not (data / "val.txt").is_file() or model_path is None:
        pytest.skip("needs ../shared/data/pipe-corrosion and the shipped model")
    model = SegmentationModel.load(model_path, device="cpu")

    def share(labels):
        return area_stats(labels, model.classes).corroded_share or 0.0

    before, after = [], []
    for pair_id in (data / "val.txt").read_text().split():
        rgb = np.asarray(Image.open(data / "DATASET" / "original" / f"ORI_{pair_id}.png").convert("RGB"))
        truth, _ = decode_mask(
            np.asarray(Image.open(data / "DATASET" / "ground_truth" / f"GT_{pair_id}.png").convert("RGB"))
        )
        seg = segment(model, rgb)
        edit = smart_select(
            rgb, seg.labels, Marks(box=_box_of(_pipe(truth))), probabilities=seg.probabilities
        )
        out = seg.labels.copy()
        if edit is not None:
            out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
        for labels, sink in ((seg.labels, before), (out, after)):
            sink.append((_iou(_pipe(labels), _pipe(truth)), abs(share(labels) - share(truth))))
    iou_before, err_before = np.mean(before, axis=0)
    iou_after, err_after = np.mean(after, axis=0)
    assert iou_after > iou_before + 0.05, (iou_before, iou_after)
    assert err_after < err_before, (err_before, err_after)
    assert min(a for a, _ in after) > min(b for b, _ in before)


def test_grabcut_step_by_step_gives_one_calls_result_and_stops_once_converged(monkeypatch) -> None:
    """Run iteration by iteration (`converged`): with a threshold no change meets, exactly OpenCV's
    own loop; with the default, it stops early and changes only what the last iterations would."""
    rgb, truth = synthetic_pipe(5, (120, 160))
    labels = np.where(truth == 0, 1, truth).astype(np.uint8)
    marks = Marks(box=(5.0, 5.0, 150.0, 110.0))
    calls: list[int] = []
    real = cv2.grabCut
    monkeypatch.setattr(cv2, "grabCut", lambda *a: calls.append(a[5]) or real(*a))

    def run(converged: float):
        cv2.setRNGSeed(3)
        calls.clear()
        options = SmartSelectOptions(converged=converged, iterations=5)
        edit = smart_select(rgb, labels, marks, options=options)
        return edit, list(calls)

    whole, whole_calls = run(0.0)
    stepped, stepped_calls = run(1e-12)
    assert whole_calls == [5] and stepped_calls[0] == 1 and len(stepped_calls) > 1
    assert whole.box == stepped.box and np.array_equal(whole.after, stepped.after)
    early, early_calls = run(SmartSelectOptions().converged)
    assert len(early_calls) <= len(stepped_calls)

    def applied(edit) -> np.ndarray:
        out = labels.copy()
        out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
        return out

    assert np.count_nonzero(applied(early) != applied(whole)) < 0.01 * labels.size


@pytest.mark.parametrize("size", [(256, 256), (2000, 3000)])  # 6 MP: a 5.5x working copy (smart_full)
def test_a_keep_outside_box_fixes_its_pipe_and_leaves_the_rest_of_the_map_as_it_was(size):
    h, w = size
    rgb, truth = two_pipes(h, w)
    labels = truth.copy()
    upper = (slice(round(0.2 * h), round(0.38 * h)), slice(round(0.6 * w), w))
    labels[upper] = BACKGROUND  # the model missed a stretch of the upper pipe
    labels[round(0.1 * h) : round(0.2 * h), round(0.2 * w) : round(0.35 * w)] = ASSET  # and ground above it
    labels[round(0.85 * h) :, round(0.8 * w) :] = ASSET  # and a patch of ground far from the box
    box = (0.1 * w, 0.12 * h, 0.9 * w, 0.46 * h)  # around the upper pipe, not its ends
    y0, x0, y1, x1 = round(0.12 * h), round(0.1 * w), round(0.46 * h), round(0.9 * w)
    inside = np.zeros((h, w), bool)
    inside[y0:y1, x0:x1] = True
    probs = _soft(labels)

    def iou_in_box(out: np.ndarray) -> float:
        return _iou(_pipe(out) & inside, _pipe(truth) & inside)

    wiped = _applied(labels, smart_select(rgb, labels, Marks(box=box), probabilities=probs))
    assert _pipe(labels)[~inside].any() and not _pipe(wiped)[~inside].any(), "by default outside goes"

    marks = Marks(box=box, keep_outside=True)
    edit = smart_select(rgb, labels, marks, probabilities=probs)
    assert y0 <= edit.box[0] and x0 <= edit.box[1] and edit.box[2] <= y1 and edit.box[3] <= x1
    editor = LabelEditor(labels.copy())
    assert editor.apply(edit) is not None
    kept = editor.labels
    assert np.array_equal(kept[~inside], labels[~inside]), "the lower pipe and the far patch stay"
    assert iou_in_box(labels) < 0.6 and iou_in_box(kept) > 0.98 and iou_in_box(wiped) > 0.98
    stayed = _pipe(labels) & _pipe(kept)
    assert np.array_equal(kept[stayed], labels[stayed]), "inside the region corrosion vs asset is kept"
    editor.undo()
    assert np.array_equal(editor.labels, labels), "one undo step"


def _applied(labels: np.ndarray, edit) -> np.ndarray:
    out = labels.copy()
    if edit is not None:
        out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    return out


def test_a_model_whose_third_class_is_not_named_background_still_smart_selects() -> None:
    """Class names corrosion and asset are the contract; the third was required to be "background" too,
    so smart select refused a model that calls it "other"."""
    from dataclasses import replace

    from app.core.palette import DEFAULT_CLASSES, background_class
    from app.core.smart_select import class_ids

    other = tuple(replace(c, name="other") if c.name == "background" else c for c in DEFAULT_CLASSES)
    assert class_ids(other).background == 2
    assert background_class(other) == other[2]
    four = (*other, replace(other[2], id=3, name="sky"))
    assert background_class(four) is None, "two candidates: ambiguous, none is guessed"
