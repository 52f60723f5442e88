"""ResultState: setters validate, store, then emit; figures always follow the label map shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.analysis import analyze_rgb, reassess
from app.core.grading import ReviewPolicy
from app.core.model import SegmentationModel
from app.core.stats import area_stats
from app.core.synthetic import synthetic_pipe
from app.ui.qimage import labels_view, rgb_to_qimage
from app.ui.result_state import OpenedPhoto, ResultState


@pytest.fixture
def analysed(tiny_model: SegmentationModel):
    rgb, _truth = synthetic_pipe(seed=3, size=(90, 120))
    path = Path("pipe.png")
    return OpenedPhoto(path, rgb, rgb_to_qimage(rgb)), analyze_rgb(tiny_model, rgb, path)


def test_setters_validate_then_emit(qtbot, analysed) -> None:
    photo, result = analysed
    state = ResultState()
    with pytest.raises(ValueError, match="does not belong"):
        state.set_result(result)  # no photo yet
    assert state.result is None
    with qtbot.waitSignal(state.photo_changed):
        state.set_photo(photo)
    with qtbot.waitSignals([state.result_changed, state.figures_changed]):
        state.set_result(result)
    assert state.result is result and not state.edited
    with pytest.raises(ValueError, match="must be uint8"):
        state.set_labels(np.zeros((5, 5), np.uint8))
    assert state.result is result  # a refused edit leaves the state as it was


def test_an_edit_recomputes_the_figures_as_numpy_does(qtbot, analysed) -> None:
    photo, result = analysed
    state = ResultState()
    state.set_photo(photo)
    state.set_result(result)
    edited = result.labels.copy()
    edited[10:40, 10:60] = 0  # paint corrosion
    with qtbot.waitSignal(state.figures_changed) as blocker:
        state.set_labels(edited)
    figures = blocker.args[0]
    assert figures.stats == area_stats(edited, result.classes)
    assert figures.stats != result.stats and state.edited
    assert state.model_labels is result.labels  # the model's map is kept for the eraser
    state.set_policy(ReviewPolicy(margin=0.0, min_confidence=0.0))
    # an edit needs review until someone signs it, whatever the policy's margins
    assert state.result.assessment.reasons[0] == "edited, not marked reviewed yet"
    assert state.result.labels_source == "edited"


def test_figures_from_an_editors_counts_equal_a_recount(analysed) -> None:
    from app.core.editing import LabelEditor

    photo, result = analysed
    state = ResultState()
    state.set_photo(photo)
    state.set_result(result)
    editor = LabelEditor(result.labels.copy(), result.labels)
    editor.stroke([(10, 10), (80, 50)], 6, class_id=0)
    counted = state.set_labels(editor.labels, editor.stats(result.classes))
    assert counted.stats == area_stats(editor.labels, result.classes) != result.stats
    assert counted.assessment == reassess(result, editor.labels).assessment


def test_the_labels_image_shows_edits_of_the_array_without_a_copy(analysed) -> None:
    _photo, result = analysed
    labels = result.labels
    image = labels_view(labels)
    labels[5, 7] = 2 if labels[5, 7] != 2 else 1
    assert image.pixelIndex(7, 5) == labels[5, 7]


def test_fast_edit_figures_then_the_full_measures_of_the_same_map(qtbot, analysed) -> None:
    from app.core.stats import area_stats

    photo, result = analysed
    state = ResultState()
    state.set_photo(photo)
    state.set_result(result)
    edited = result.labels.copy()
    edited[5:30, 5:50] = 0
    fast = state.set_labels(edited, area_stats(edited, result.classes))
    assert fast.stats == area_stats(edited, result.classes) and fast.labels_source == "edited"
    assert fast.measures.share_range is None  # a hand-edited map has no model range
    version, copy = state.version, edited.copy()
    full = state.reassessed(copy)  # what the worker computes
    edited[0, 0] = 1 - edited[0, 0] % 2  # the inspector paints on before it returns
    state.set_labels(edited, area_stats(edited, result.classes))
    assert not state.set_measured(version, full)  # stale: ignored
    version, copy = state.version, edited.copy()
    assert state.set_measured(version, state.reassessed(copy))
    assert state.result.labels is edited and state.result.measures.patches is not None


def test_leaving_a_photo_before_its_measures_says_what_they_still_need(qtbot, analysed) -> None:
    from app.core.analysis import reassess
    from app.core.stats import area_stats

    photo, result = analysed
    state = ResultState()
    state.set_photo(photo)
    state.set_result(result)
    assert not state.measures_pending
    edited = result.labels.copy()
    edited[5:30, 5:50] = 0
    state.set_labels(edited, area_stats(edited, result.classes))
    assert state.measures_pending
    state.set_photo(photo)  # the next photo, before the worker's measures came
    pending = state.left_unmeasured
    assert pending is not None and pending.path == result.path and not state.measures_pending
    edited[0, 0] = 1 - edited[0, 0] % 2  # the editor's map changes later: the copy does not
    left = pending.compute()
    expected = reassess(result, pending.labels, state.policy)
    assert left.measures.patches == expected.measures.patches and left.labels_source == "edited"
    assert not np.array_equal(pending.labels, edited)
    state.set_result(None)
    state.set_photo(None)
    assert state.left_unmeasured is None  # nothing was pending


def test_the_first_edit_takes_the_copy_the_analysis_worker_made(qtbot, window, tmp_path) -> None:
    """The first stroke copied the model's 50 MB map on the UI thread (0.3-0.7 s at 50 MP): the worker's
    copy is taken instead, once; a second session (after a discard) copies as before."""
    from tests.ui.conftest import open_and_wait, photo

    path, _ = photo(tmp_path, 5)
    open_and_wait(qtbot, window, path)
    state = window.controller.state
    spare = state._edit_copy
    assert spare is not None and spare is not state.model_labels
    assert np.array_equal(spare, state.model_labels)
    session = window.editing.edits.begin()
    assert session.editor.labels is spare and session.editor.model_labels is state.model_labels
    assert state._edit_copy is None
    window.editing.edits.discard(path)
    again = window.editing.edits.begin()
    assert again.editor.labels is not spare and again.editor.labels is not state.model_labels
