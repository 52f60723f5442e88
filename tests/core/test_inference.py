"""Inference at any size: both modes, exact on known inputs, strips equal to a full-frame reference."""

from __future__ import annotations

import itertools
import tracemalloc

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.inference import (
    InferenceMode,
    InferenceOptions,
    blend_window,
    segment,
    segment_view,
    shrink_area,
    tile_starts,
)
from app.core.model import SegmentationModel
from app.core.synthetic import synthetic_pipe
from tests.helpers.tiny_models import expected_probabilities

RED, BLUE, GREEN = (250, 0, 0), (0, 0, 250), (0, 250, 0)


def test_resize_mode_on_blocks_aligned_to_the_input_grid(tiny_model: SegmentationModel) -> None:
    rgb = np.zeros((64, 96, 3), dtype=np.uint8)
    rgb[:, :48] = RED
    rgb[:, 48:] = BLUE
    rgb[40:] = GREEN
    seg = segment(tiny_model, rgb, InferenceOptions(mode=InferenceMode.RESIZE))
    expected = np.full((64, 96), 1, np.uint8)
    expected[:, :48] = 0
    expected[40:] = 2
    np.testing.assert_array_equal(seg.labels, expected)
    top = expected_probabilities(np.array(RED)).max()
    assert seg.confidence[0, 0] == round(top * 255)
    # Edge pixels mix two classes' probabilities; the mean is over the upsampled top probability.
    ref_labels, ref_top = _reference(tiny_model, rgb)
    assert seg.mean_confidence == pytest.approx(ref_top[ref_labels != 2].mean(), abs=1e-5)
    assert seg.mean_confidence < top


def test_tiles_mode_is_closer_to_the_synthetic_truth_than_resize(tiny_model: SegmentationModel) -> None:
    rgb, truth = synthetic_pipe(seed=3, size=(100, 150))
    fine = segment(tiny_model, rgb, InferenceOptions(mode="tiles", tile_overlap=0.3, tile_batch=3))
    coarse = segment(tiny_model, rgb)
    assert (fine.labels == truth).mean() > (coarse.labels == truth).mean() > 0.9
    top = expected_probabilities(rgb).max(axis=-1)
    graded = truth != 2
    # Blurred edges lower the mean top probability; the finer look blurs them less.
    assert coarse.mean_confidence < fine.mean_confidence < top[graded].mean()


@pytest.mark.parametrize("size", [(1, 1), (1, 5), (20, 13), (32, 32), (33, 70), (200, 31)])
@pytest.mark.parametrize("scale", [1.0, 1.7, 4.0])
def test_any_size_and_scale(tiny_model: SegmentationModel, size: tuple[int, int], scale: float) -> None:
    rgb = np.zeros((*size, 3), dtype=np.uint8)
    rgb[..., 2] = 200  # all blue: asset everywhere
    rgb[: size[0] // 2, :, 0] = 255  # top half red: corrosion
    for mode in ("tiles", "resize"):
        seg = segment(tiny_model, rgb, InferenceOptions(mode=mode, tile_scale=scale))
        assert seg.labels.shape == size and seg.confidence.shape == size
        assert set(np.unique(seg.labels)) <= {0, 1}
        if size[0] >= 20:
            assert (seg.labels[0] == 0).all() and (seg.labels[-1] == 1).all()


def _reference(model: SegmentationModel, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resize mode done the naive way: full-size float planes, one cv2.resize (the shrink to the network's
    input is the production one; `test_fast_paths` checks it against a single `INTER_AREA` resize)."""
    h, w = model.input_size
    small = shrink_area(rgb, w, h)
    probs = model.predict(small[None])[0]
    full = cv2.resize(probs, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    return full.argmax(-1), full.max(-1)


@pytest.mark.parametrize("size", [(1000, 40), (45, 700), (300, 300), (33, 33)])
def test_strips_match_a_full_frame_reference(tiny_model: SegmentationModel, size: tuple[int, int]) -> None:
    rgb, _ = synthetic_pipe(seed=size[0], size=size)
    seg = segment(tiny_model, rgb)
    labels, top = _reference(tiny_model, rgb)
    assert (seg.labels == labels).mean() > 0.999
    assert np.abs(seg.confidence.astype(int) - np.round(top * 255)).max() <= 1


@pytest.mark.parametrize("mode", ["resize", "tiles"])
@pytest.mark.parametrize("size", [(300, 400), (45, 700), (33, 33), (1000, 40)])
def test_without_the_confidence_map_the_labels_and_mean_are_the_same(
    tiny_model: SegmentationModel, mode: str, size: tuple[int, int]
) -> None:
    # What a batch that keeps no result asks for: no full-size confidence, the same figures bit for bit.
    rgb, _ = synthetic_pipe(seed=size[1], size=size)
    options = InferenceOptions(mode=mode, corrosion_probability=True)
    full = segment_view(tiny_model, rgb, size, options)
    lean = segment_view(tiny_model, rgb, size, options, confidence=False)
    assert lean.confidence is None and full.confidence is not None
    np.testing.assert_array_equal(lean.labels, full.labels)
    np.testing.assert_array_equal(lean.corrosion_probability, full.corrosion_probability)
    np.testing.assert_array_equal(lean.probabilities, full.probabilities)
    assert lean.mean_confidence == full.mean_confidence  # exactly: same sums in the same order


def test_no_graded_pixels_gives_no_mean_confidence(tiny_model: SegmentationModel) -> None:
    seg = segment(tiny_model, np.full((40, 40, 3), GREEN, np.uint8))
    assert seg.mean_confidence is None


def test_memory_stays_below_one_float_plane_per_class(tiny_model: SegmentationModel) -> None:
    h, w = 3000, 4000  # 12 MP; one float32 plane per class would be 144 MB
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = RED
    rgb[:, w // 2 :] = BLUE
    for mode in ("resize", "tiles"):
        options = InferenceOptions(mode=mode)
        tracemalloc.start()
        seg = segment(tiny_model, rgb, options)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert seg.labels[0, 0] == 0 and seg.labels[0, -1] == 1
        # labels + confidence are 24 MB; strips and the working map add a little on top.
        assert peak < 50e6, f"{mode}: peak {peak / 1e6:.0f} MB"


@given(length=st.integers(1, 2000), tile=st.integers(8, 300), overlap=st.floats(0.0, 0.8))
def test_tile_starts_cover_everything(length: int, tile: int, overlap: float) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    if length <= tile:
        assert starts == [0]
        return
    assert starts[-1] == length - tile
    assert all(b > a for a, b in itertools.pairwise(starts))
    assert all(b - a <= tile for a, b in itertools.pairwise(starts))  # no gaps


def test_blend_window_is_positive_and_peaks_in_the_middle() -> None:
    win = blend_window(16, 20)
    assert win.shape == (16, 20) and (win > 0).all()
    assert win[8, 10] == win.max() or win[7, 9] == win.max()
    assert win[0, 0] < 0.01


def test_options_are_checked() -> None:
    with pytest.raises(ValueError):
        InferenceOptions(tile_overlap=0.95)
    with pytest.raises(ValueError):
        InferenceOptions(mode="warp")
    with pytest.raises(ValueError, match="whole-photo view"):
        InferenceOptions(tile_scale=0.5)
    assert InferenceOptions(mode="tiles").mode is InferenceMode.TILES


def _reference_corrosion(model: SegmentationModel, rgb: np.ndarray) -> np.ndarray:
    h, w = model.input_size
    probs = model.predict(shrink_area(rgb, w, h)[None])[0]
    return cv2.resize(probs, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)[..., 0]


@pytest.mark.parametrize("size", [(1000, 40), (45, 700), (300, 300), (33, 33)])
def test_corrosion_probability_on_request_matches_a_full_frame_reference(
    tiny_model: SegmentationModel, size: tuple[int, int]
) -> None:
    rgb, _ = synthetic_pipe(seed=size[1], size=size)
    assert segment(tiny_model, rgb).corrosion_probability is None  # opt-in: no extra plane by default
    seg = segment(tiny_model, rgb, InferenceOptions(corrosion_probability=True))
    assert seg.corrosion_probability is not None and seg.corrosion_probability.dtype == np.uint8
    reference = np.round(_reference_corrosion(tiny_model, rgb) * 255)
    assert np.abs(seg.corrosion_probability.astype(int) - reference).max() <= 1
    plain = segment(tiny_model, rgb)
    np.testing.assert_array_equal(seg.labels, plain.labels)  # asking for it changes nothing else
    np.testing.assert_array_equal(seg.confidence, plain.confidence)


def test_corrosion_probability_in_tiles_mode_is_the_blended_one(
    tiny_model: SegmentationModel,
) -> None:
    """Fine mode blends two views, so its corrosion probability is the blend's: the top class's where
    corrosion wins, and the same labels as without the plane."""
    rgb, _ = synthetic_pipe(seed=5, size=(90, 140))
    options = InferenceOptions(mode="tiles", tile_overlap=0.3, corrosion_probability=True)
    seg = segment(tiny_model, rgb, options)
    plain = segment(tiny_model, rgb, InferenceOptions(mode="tiles", tile_overlap=0.3))
    np.testing.assert_array_equal(seg.labels, plain.labels)
    where_top = seg.labels == 0
    assert np.abs(seg.corrosion_probability[where_top].astype(int) - seg.confidence[where_top]).max() <= 1


def test_the_corrosion_probability_costs_one_byte_per_pixel(tiny_model: SegmentationModel) -> None:
    h, w = 3000, 4000
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = RED
    rgb[:, w // 2 :] = BLUE
    tracemalloc.start()
    seg = segment(tiny_model, rgb, InferenceOptions(corrosion_probability=True))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seg.corrosion_probability[0, 0] == round(expected_probabilities(np.array(RED))[0] * 255)
    assert peak < 62e6, f"peak {peak / 1e6:.0f} MB"  # the 50 MB of the test above plus a 12 MB plane
