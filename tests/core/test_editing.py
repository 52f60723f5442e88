"""Label-map edits: each tool against the same edit done in plain numpy, undo/redo, counts, memory bound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.core.edit_masks import polygon_mask, region_mask
from app.core.editing import Edit, LabelEditor
from app.core.palette import DEFAULT_CLASSES
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe


def _labels(seed: int = 3, size: tuple[int, int] = (120, 160)) -> np.ndarray:
    return synthetic_pipe(seed, size)[1]


def _numpy_stroke(labels: np.ndarray, points, radius: float, values) -> np.ndarray:
    """The stroke in numpy over the whole map: every pixel centre within `radius` of a segment."""
    out = labels.copy()
    yy, xx = np.mgrid[0 : labels.shape[0], 0 : labels.shape[1]].astype(np.float64)
    hit = np.zeros(labels.shape, bool)
    pairs = list(itertools.pairwise(points)) or [(points[0], points[0])]
    for (xa, ya), (xb, yb) in pairs:
        d = np.array([xb - xa, yb - ya], float)
        seg2 = float(d @ d)
        t = np.zeros_like(xx) if seg2 == 0 else np.clip(((xx - xa) * d[0] + (yy - ya) * d[1]) / seg2, 0, 1)
        hit |= (xx - xa - t * d[0]) ** 2 + (yy - ya - t * d[1]) ** 2 <= radius**2
    out[hit] = values if np.isscalar(values) else values[hit]
    return out


def _assert_counts_follow(editor: LabelEditor) -> None:
    assert np.array_equal(editor.counts, np.bincount(editor.labels.ravel(), minlength=256))
    assert editor.stats(DEFAULT_CLASSES) == area_stats(editor.labels, DEFAULT_CLASSES)


STROKE = [(10.2, 15.7), (40.0, 22.0), (41.0, 23.5), (90.5, 80.25), (150.0, 118.0), (170.0, 130.0)]


@pytest.mark.parametrize("radius", [0.5, 3, 7.5, 20])
def test_a_brush_stroke_equals_the_same_edit_in_numpy(radius):
    labels = _labels()
    editor = LabelEditor(labels.copy())
    edit = editor.stroke(STROKE, radius, 0)
    expected = _numpy_stroke(labels, STROKE, radius, 0)
    assert np.array_equal(editor.labels, expected)
    assert edit is not None and edit.kind == "brush"
    assert edit.changed_pixels == int(np.count_nonzero(expected != labels))
    _assert_counts_follow(editor)


def test_a_single_click_paints_a_disc():
    labels = np.full((50, 60), 2, np.uint8)
    editor = LabelEditor(labels.copy())
    editor.stroke([(30, 20)], 5, 1)
    yy, xx = np.mgrid[0:50, 0:60]
    assert np.array_equal(editor.labels == 1, (xx - 30) ** 2 + (yy - 20) ** 2 <= 25)


def test_the_eraser_restores_the_models_labels_under_the_brush():
    model = _labels()
    editor = LabelEditor(model.copy())
    editor.fill_polygon([(0, 0), (159, 0), (159, 119), (0, 119)], 0)  # everything corrosion
    painted = editor.labels.copy()
    assert (painted == 0).all()
    edit = editor.stroke(STROKE, 6, None)
    assert edit is not None and edit.kind == "eraser"
    assert np.array_equal(editor.labels, _numpy_stroke(painted, STROKE, 6, model))
    _assert_counts_follow(editor)


def test_a_stroke_is_one_undo_step_and_undo_redo_are_exact():
    labels = _labels()
    editor = LabelEditor(labels.copy())
    states = [labels.copy()]
    editor.stroke(STROKE, 5, 0)
    states.append(editor.labels.copy())
    editor.stroke([(150, 10), (10, 110)], 9, 2)
    states.append(editor.labels.copy())
    editor.flood_fill((0, 0), 1)
    states.append(editor.labels.copy())
    editor.fill_polygon([(20, 20), (100, 30), (60, 100)], 0)
    states.append(editor.labels.copy())
    for expected in reversed(states[:-1]):
        assert editor.undo() is not None
        assert np.array_equal(editor.labels, expected)
        _assert_counts_follow(editor)
    assert editor.undo() is None and not editor.can_undo
    for expected in states[1:]:
        assert editor.redo() is not None
        assert np.array_equal(editor.labels, expected)
        _assert_counts_follow(editor)
    assert editor.redo() is None


def test_a_new_edit_after_undo_drops_the_redo_steps():
    editor = LabelEditor(_labels())
    editor.stroke(STROKE, 5, 0)
    editor.undo()
    assert editor.can_redo
    editor.stroke([(5, 5)], 3, 1)
    assert not editor.can_redo


def test_undo_during_a_stroke_undoes_that_stroke():
    labels = _labels()
    editor = LabelEditor(labels.copy())
    editor.begin_stroke((10, 10), 4, 0)
    editor.extend_stroke((60, 60))
    assert editor.can_undo and editor.modified
    editor.undo()
    assert np.array_equal(editor.labels, labels)
    assert not editor.modified


def test_the_undo_stack_keeps_only_the_changed_box_and_stays_under_its_byte_limit():
    editor = LabelEditor(np.full((1000, 1000), 2, np.uint8), max_undo_bytes=8_000)
    edit = editor.stroke([(500, 500), (520, 500)], 10, 0)
    assert edit is not None
    assert edit.box == (490, 490, 511, 531)  # 21 x 41: the disc's extent, not the map
    # its changed pixels as uint16 indices in the box, one old id and one new id: less than the patches
    assert edit.nbytes == 2 * edit.changed_pixels + 2 < 2 * 21 * 41
    discs = [editor.stroke([(40 * i + 20, 100)], 10, 1) for i in range(20)]
    disc_bytes = {d.nbytes for d in discs if d is not None}
    assert len(disc_bytes) == 1 and editor.undo_bytes <= 8_000
    steps = 0
    while editor.undo() is not None:
        steps += 1
    assert steps == 8_000 // disc_bytes.pop()  # the newest steps that fit
    assert editor.modified, "steps that fell off the stack cannot be undone: the map stays modified"


def test_a_step_that_changes_most_of_its_box_keeps_the_box_before_and_after():
    """Over varied ids a disc changes ~80 % of its box: its indices and ids would outweigh two patches."""
    labels = np.random.default_rng(1).integers(0, 3, (60, 60)).astype(np.uint8)
    editor = LabelEditor(labels.copy())
    edit = editor.stroke([(30, 30)], 10, 3)
    assert isinstance(edit, Edit) and edit.nbytes == 2 * 21 * 21
    editor.undo()
    assert np.array_equal(editor.labels, labels)


def test_painting_a_class_over_itself_is_no_step():
    editor = LabelEditor(np.full((40, 40), 1, np.uint8))
    assert editor.stroke([(10, 10), (30, 30)], 5, 1) is None
    assert not editor.can_undo and not editor.modified


def test_a_stroke_outside_the_map_is_clipped():
    labels = np.full((30, 30), 2, np.uint8)
    editor = LabelEditor(labels.copy())
    editor.stroke([(-20, -20), (-5, 10), (50, 10)], 3, 0)
    assert np.array_equal(editor.labels, _numpy_stroke(labels, [(-20, -20), (-5, 10), (50, 10)], 3, 0))
    _assert_counts_follow(editor)


def test_polygon_fill_of_a_rectangle_and_a_triangle():
    labels = np.full((80, 100), 2, np.uint8)
    box, mask = polygon_mask([(10, 20), (60, 20), (60, 50), (10, 50)], labels.shape)
    expected = np.zeros(labels.shape, bool)
    expected[20:51, 10:61] = True
    got = np.zeros(labels.shape, bool)
    got[box[0] : box[2], box[1] : box[3]] = mask
    assert np.array_equal(got, expected)

    tri = [(5.0, 5.0), (95.0, 10.0), (40.0, 75.0)]
    editor = LabelEditor(labels.copy())
    editor.fill_polygon(tri, 0)
    yy, xx = np.mgrid[0:80, 0:100].astype(float)
    inside_by = []  # signed distance of each pixel centre to each edge (positive inside)
    for (xa, ya), (xb, yb) in zip(tri, tri[1:] + tri[:1], strict=True):
        n = np.hypot(xb - xa, yb - ya)
        inside_by.append(((xb - xa) * (yy - ya) - (yb - ya) * (xx - xa)) / n)
    depth = np.min(inside_by, axis=0)
    assert (editor.labels[depth > 1] == 0).all()
    assert (editor.labels[depth < -1] == 2).all()
    _assert_counts_follow(editor)


def test_flood_fill_takes_the_4_connected_region_of_the_clicked_class():
    labels = np.full((20, 20), 2, np.uint8)
    labels[5:10, 5:10] = 1
    labels[10, 10] = 1  # touches the square only diagonally: not 4-connected
    labels[2:4, 15:18] = 1  # another asset region
    editor = LabelEditor(labels.copy())
    edit = editor.flood_fill((7, 7), 0)
    expected = labels.copy()
    expected[5:10, 5:10] = 0
    assert np.array_equal(editor.labels, expected)
    assert edit is not None and edit.box == (5, 5, 10, 10)
    box, mask = region_mask(labels, (0, 0))
    assert box == (0, 0, 20, 20) and int(mask.sum()) == 400 - 25 - 1 - 6
    assert editor.flood_fill((50, 50), 0) is None  # outside the map
    _assert_counts_follow(editor)


def test_apply_takes_an_outside_edit_as_one_step_and_checks_its_patch():
    labels = _labels()
    editor = LabelEditor(labels.copy())
    after = labels[10:30, 20:60].copy()
    after[::2] = 0
    step = editor.apply(Edit((10, 20, 30, 60), labels[10:30, 20:60].copy(), after, "smart select"))
    assert step is not None and step.kind == "smart select"
    assert np.array_equal(editor.labels[10:30, 20:60], after)
    _assert_counts_follow(editor)
    editor.undo()
    assert np.array_equal(editor.labels, labels)
    _assert_counts_follow(editor)
    with pytest.raises(ValueError, match="does not match"):
        editor.apply(Edit((0, 0, 5, 5), after, after))
    with pytest.raises(ValueError, match="outside"):
        editor.apply(Edit((110, 0, 130, 40), after, after))


def test_modified_follows_save_undo_and_redo():
    editor = LabelEditor(_labels())
    assert not editor.modified
    editor.stroke(STROKE, 4, 0)
    assert editor.modified
    editor.mark_saved()
    assert not editor.modified
    editor.undo()
    assert editor.modified
    editor.redo()
    assert not editor.modified


def test_a_checkpoint_is_reached_again_only_by_undo_and_redo_to_the_same_map():
    editor = LabelEditor(_labels())
    start = editor.checkpoint()
    editor.stroke(STROKE, 4, 0)
    signed = editor.checkpoint()
    assert not editor.at(start) and editor.at(signed)
    editor.undo()
    assert editor.at(start) and not editor.at(signed)
    editor.redo()
    assert editor.at(signed)
    editor.begin_stroke((60, 60), 4, 1)
    assert not editor.at(signed)  # a stroke is open: the map is no longer the one signed
    editor.end_stroke()
    editor.undo()
    editor.undo()
    editor.stroke([(90, 20)], 4, 0)  # a new edit where the first one was
    assert not editor.at(signed) and not editor.at(start)
    editor.trim_undo(0)  # the stack is empty again, but after a drop it is not the start
    assert not editor.at(start) and editor.at(editor.checkpoint())


def test_trim_undo_keeps_the_map_and_drops_the_oldest_steps():
    editor = LabelEditor(_labels())
    steps = [editor.stroke([(10 + 30 * i, 60)], 8, 0) for i in range(5)]
    size = [step.nbytes for step in steps if step is not None]
    editor.undo()
    kept = editor.labels.copy()
    editor.trim_undo(size[4] + size[3] + size[2])  # room for three steps: the redo step and two undo steps
    assert np.array_equal(editor.labels, kept) and editor.can_redo
    editor.trim_undo(size[4] + size[3])  # two: the older undo step goes first
    assert np.array_equal(editor.labels, kept) and editor.can_redo
    assert editor.undo() is not None and editor.undo() is None
    editor.trim_undo(size[3])  # one: the farthest redo step goes
    assert editor.redo() is not None and editor.redo() is None
    assert editor.modified
    editor.trim_undo(0)
    assert not editor.can_undo and editor.undo_bytes == 0
    _assert_counts_follow(editor)


def test_a_saved_map_stays_saved_when_trimming_drops_its_step():
    editor = LabelEditor(_labels())
    editor.stroke(STROKE, 4, 0)
    editor.stroke([(90, 20)], 4, 1)
    editor.mark_saved()
    saved = editor.checkpoint()
    editor.trim_undo(0)  # a photo in the background: its history goes, its map is still the saved one
    assert not editor.modified and editor.at(saved)
    editor.stroke([(60, 60)], 4, 0)
    assert editor.modified
    editor.undo()  # back to the saved map, now the bottom of the stack
    assert not editor.modified and editor.at(saved)


def test_a_saved_map_with_later_steps_is_found_again_after_its_step_is_dropped():
    editor = LabelEditor(_labels())
    editor.stroke(STROKE, 4, 0)
    editor.mark_saved()
    editor.stroke([(90, 20)], 4, 1)
    editor.trim_undo(editor.undo_bytes - 1)  # drops the saved step, keeps the one after it
    assert editor.modified and editor.can_undo
    editor.undo()
    assert not editor.modified


def test_maps_equal_compares_by_strips_and_finds_a_change_anywhere() -> None:
    from app.core.edit_masks import maps_equal

    a = np.zeros((3000, 700), dtype=np.uint8)  # several strips of a megabyte
    assert maps_equal(a, a.copy())
    for y, x in ((0, 0), (1499, 350), (2999, 699)):
        b = a.copy()
        b[y, x] = 1
        assert not maps_equal(a, b)
    assert not maps_equal(a, a[:-1])  # another shape


def test_a_fill_made_for_a_worker_reads_the_map_and_applies_as_the_fill_itself() -> None:
    """`fill_edit` and `polygon_edit` (a worker's part) never write; `apply` gives what `flood_fill` does."""
    labels = np.zeros((40, 60), dtype=np.uint8)
    labels[10:30, 10:50] = 1
    direct, worker = LabelEditor(labels.copy()), LabelEditor(labels.copy())
    step = worker.fill_edit((20.0, 20.0), 0)
    poly = worker.polygon_edit([(0.0, 0.0), (30.0, 0.0), (30.0, 30.0)], 2)
    assert np.array_equal(worker.labels, labels) and not worker.can_undo
    direct.flood_fill((20.0, 20.0), 0)
    assert worker.apply(step) is not None
    assert np.array_equal(worker.labels, direct.labels) and worker.counts.tolist() == direct.counts.tolist()
    assert poly is not None and worker.undo() is not None and np.array_equal(worker.labels, labels)
