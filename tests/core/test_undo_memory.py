"""Undo steps kept as their changed pixels: a thin stroke across a 50 MP photo no longer fills the undo
budget, each form undoes and redoes exactly what the patches before and after would, and counts follow."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from app.core.edit_steps import Edit, SparseEdit, compact, count_delta, step_from_mask, tighten
from app.core.editing import DEFAULT_UNDO_BYTES, LabelEditor
from app.core.synthetic import synthetic_pipe

MB = 1024 * 1024
BACKGROUND_UNDO_BYTES = 32 * MB  # what the window keeps of a photo in the background
NO_DELTA = np.zeros(256, np.int64)


def _digest(labels: np.ndarray) -> str:
    return hashlib.blake2b(labels.data, digest_size=16).hexdigest()


def _diagonal(
    a: tuple[float, float], b: tuple[float, float], step: float = 48.0
) -> list[tuple[float, float]]:
    n = int(np.hypot(b[0] - a[0], b[1] - a[1]) // step)
    return [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]


def test_four_thin_strokes_across_a_50_mp_map_and_a_flood_fill_all_undo_within_the_default_budget():
    """The tester's 50 MP case: each diagonal kept ~100 MB of box patches, so the 256 MB budget held two
    strokes and lost the steps before silently; the 32 MB a photo keeps in the background held one."""
    h, w = 5774, 8660
    editor = LabelEditor(np.zeros((h, w), np.uint8))
    states = [_digest(editor.labels)]
    steps = [editor.flood_fill((10.0, 10.0), 2)]  # the whole map
    states.append(_digest(editor.labels))
    corners = [((0, 0), (w - 1, h - 1)), ((w - 1, 0), (0, h - 1)), ((0, 60), (w - 1, h - 61))]
    for a, b in [*corners, ((w - 1, 60), (0, h - 61))]:
        steps.append(editor.stroke(_diagonal(a, b), 5, 1))
        states.append(_digest(editor.labels))
    assert editor.undo_bytes <= DEFAULT_UNDO_BYTES
    for expected in reversed(states[:-1]):
        assert editor.undo() is not None, "an undo step was dropped"
        assert _digest(editor.labels) == expected
    assert editor.undo() is None
    assert editor.counts[0] == h * w and not editor.modified
    for expected in states[1:]:
        assert editor.redo() is not None and _digest(editor.labels) == expected
    assert np.array_equal(editor.counts, np.bincount(editor.labels.ravel(), minlength=256))

    fill, strokes = steps[0], steps[1:]
    assert fill is not None and fill.nbytes < 8 * MB  # a bit mask of the map, not two 50 MB patches
    for stroke in strokes:
        assert stroke is not None and stroke.changed_pixels > 50_000
        assert stroke.nbytes < 5 * MB, f"a thin diagonal stroke keeps {stroke.nbytes / MB:.0f} MB"
    editor.trim_undo(BACKGROUND_UNDO_BYTES)  # the photo goes to the background: its history still fits
    for expected in reversed(states[:-1]):
        assert editor.undo() is not None and _digest(editor.labels) == expected


def _inside(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _random_edit(editor: LabelEditor, rng: np.random.Generator):
    """One random step of any tool (outside edits as a worker's patches, or patches from another map)."""
    h, w = editor.labels.shape
    tool = rng.integers(0, 6)
    pt = (float(rng.uniform(-5, w + 5)), float(rng.uniform(-5, h + 5)))
    if tool == 0:  # brush or eraser
        points = [pt] + [
            (float(rng.uniform(0, w)), float(rng.uniform(0, h))) for _ in range(rng.integers(0, 6))
        ]
        radius = float(rng.choice([0.5, 1.5, 4.0, 12.0]))
        return editor.stroke(points, radius, None if rng.random() < 0.3 else int(rng.integers(0, 4)))
    if tool == 1:
        return editor.flood_fill(pt, int(rng.integers(0, 4)))
    if tool == 2:
        points = [(float(rng.uniform(0, w)), float(rng.uniform(0, h))) for _ in range(rng.integers(3, 7))]
        return editor.fill_polygon(points, int(rng.integers(0, 4)))
    y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
    box = (y0, x0, int(rng.integers(y0 + 1, h + 1)), int(rng.integers(x0 + 1, w + 1)))
    current = editor.labels[box[0] : box[2], box[1] : box[3]]
    after = current.copy()
    share = rng.choice([0.01, 0.3, 1.0])
    hit = rng.random(after.shape) < share
    after[hit] = rng.integers(0, 4, int(hit.sum()))
    if tool == 3:  # a worker's step, prepared as the window does
        prepared = compact(Edit(box, current.copy(), after, "smart select"))
        return editor.apply(prepared)
    if tool == 4:  # patches whose before is not the map's: applied onto the map as it is
        return editor.apply(Edit(box, np.full_like(after, 7), after, "select similar"))
    made = editor.fill_edit(pt, int(rng.integers(0, 4)))  # made as in a worker, applied after
    return editor.apply(made)


@pytest.mark.parametrize("seed", range(12))
def test_every_stored_form_undoes_and_redoes_as_its_patches_would(seed: int):
    """Each step, whatever its form, against its patch form: the same tight box, both directions
    exact, the delta right, and never more bytes than the two patches."""
    rng = np.random.default_rng(seed)
    labels = synthetic_pipe(seed, (int(rng.integers(40, 120)), int(rng.integers(40, 160))))[1]
    editor = LabelEditor(labels.copy(), max_undo_bytes=1 << 40)
    states, forms = [labels.copy()], set()
    for _ in range(25):
        before = editor.labels.copy()
        step = _random_edit(editor, rng)
        after = editor.labels.copy()
        if step is None:
            assert np.array_equal(before, after)
            continue
        states.append(after)
        forms.add("patches" if isinstance(step, Edit) else "mask" if step.packed else "index")
        patches = tighten(Edit((0, 0, *labels.shape), before, after))
        assert patches is not None and _inside(patches.box, step.box)  # a polygon keeps its own box
        assert step.changed_pixels == patches.changed_pixels
        assert step.nbytes <= patches.nbytes
        assert np.array_equal(step.delta, count_delta(before, after))
        scratch = after.copy()
        step.write(scratch, forward=False)
        assert np.array_equal(scratch, before)
        step.write(scratch, forward=True)
        assert np.array_equal(scratch, after)
        assert np.array_equal(editor.counts, np.bincount(after.ravel(), minlength=256))
    assert len(states) > 10
    for expected in reversed(states[:-1]):
        assert editor.undo() is not None and np.array_equal(editor.labels, expected)
    assert editor.undo() is None and not editor.modified
    for expected in states[1:]:
        assert editor.redo() is not None and np.array_equal(editor.labels, expected)
    assert np.array_equal(editor.counts, np.bincount(editor.labels.ravel(), minlength=256))
    if seed == 0:
        assert forms == {"patches", "mask", "index"}, forms


def test_a_step_takes_the_smallest_of_its_three_forms():
    box = (0, 0, 100, 100)
    labels = np.random.default_rng(0).integers(0, 3, (100, 100)).astype(np.uint8)
    few = np.zeros((100, 100), bool)
    few[50, 10:40] = True  # 30 pixels: 60 bytes of uint16 indices, their 30 old ids, one new id
    step = step_from_mask(box, few, labels[few], np.array([3], np.uint8), NO_DELTA, "x", _none)
    assert isinstance(step, SparseEdit) and not step.packed and step.where.dtype == np.uint16
    assert step.nbytes == 30 * 2 + step.old.nbytes + 1 and step.changed_pixels == 30
    half = np.zeros((100, 100), bool)
    half[:50] = True  # 5,000 pixels: a 1,250-byte mask beats 10,000 bytes of indices
    old = np.full(5000, 1, np.uint8)
    step = step_from_mask(box, half, old, np.array([2], np.uint8), NO_DELTA, "x", _none)
    assert isinstance(step, SparseEdit) and step.packed and step.nbytes == 1250 + 2
    assert step.changed_pixels == 5000
    new = (labels + 1) % 3  # every pixel to another id, no id shared: the patches are smallest
    step = compact(Edit(box, labels, new))
    assert isinstance(step, Edit) and step.nbytes == 2 * 100 * 100


def _none() -> tuple[np.ndarray, np.ndarray]:
    raise AssertionError("the patches are not the smallest form here")


def test_a_compact_step_made_on_another_map_is_applied_onto_the_map_as_it_is():
    labels = np.zeros((30, 40), np.uint8)
    editor = LabelEditor(labels.copy())
    made = editor.fill_edit((5.0, 5.0), 2)  # the whole map, from 0 to 2, as a worker would make it
    assert isinstance(made, SparseEdit)
    editor.stroke([(20, 15)], 4, 1)  # the map changes before the step lands
    painted = editor.labels.copy()
    step = editor.apply(made)
    assert step is not None and step is not made
    assert (editor.labels == 2).all()
    assert np.array_equal(editor.counts, np.bincount(editor.labels.ravel(), minlength=256))
    editor.undo()
    assert np.array_equal(editor.labels, painted)
    assert np.array_equal(editor.counts, np.bincount(painted.ravel(), minlength=256))
