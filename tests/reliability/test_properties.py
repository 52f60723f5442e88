"""Property-based tests (hypothesis): mask decoding, area statistics, grading, tiling at any shape,
CSV escaping and output names. Bounded example counts keep the file to seconds."""

from __future__ import annotations

import csv
import io
import itertools
import unicodedata
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.core.export import csv_text, escape_cell, output_stems, safe_stem
from app.core.grading import ASTM_D610, ISO_4628_3, GradeScale, grade
from app.core.inference import FINE_BAND_COARSE_PIXELS, InferenceMode, InferenceOptions, segment, tile_starts
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES, OFF_PALETTE_DISTANCE, decode_mask, encode_mask
from app.core.stats import area_stats
from app.core.text import visible_controls
from tests.helpers.outputs import output_paths

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
N_CLASSES = len(DEFAULT_CLASSES)
shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))


def label_maps(max_id: int = N_CLASSES - 1):
    return shapes.flatmap(lambda hw: arrays(np.uint8, hw, elements=st.integers(0, max_id)))


# --- mask decoding -----------------------------------------------------------------------------
@FAST
@given(labels=label_maps(), seed=st.integers(0, 2**32 - 1), amplitude=st.integers(0, 50))
def test_a_mask_with_noise_decodes_to_its_labels(labels: np.ndarray, seed: int, amplitude: int) -> None:
    """Anti-aliasing and JPEG-like noise well inside the off-palette distance never change a class."""
    rgb = encode_mask(labels).astype(np.int16)
    noise = np.random.default_rng(seed).integers(-amplitude, amplitude + 1, rgb.shape)
    noisy = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    assert amplitude * np.sqrt(3) < OFF_PALETTE_DISTANCE
    ids, off = decode_mask(noisy)
    assert np.array_equal(ids, labels)
    assert off == 0


@FAST
@given(rgb=shapes.flatmap(lambda hw: arrays(np.uint8, (*hw, 3))))
def test_any_rgb_decodes_to_valid_ids_and_counts_the_far_pixels(rgb: np.ndarray) -> None:
    ids, off = decode_mask(rgb)
    assert ids.shape == rgb.shape[:2] and ids.dtype == np.uint8
    assert int(ids.max()) < N_CLASSES
    palette = np.array([c.color for c in DEFAULT_CLASSES], dtype=np.float64)
    dist = np.sqrt(((rgb[:, :, None, :].astype(np.float64) - palette) ** 2).sum(axis=3))
    assert off == int((dist.min(axis=2) > OFF_PALETTE_DISTANCE).sum())
    not_black = ~(rgb == 0).all(axis=2)
    assert np.array_equal(ids[not_black], dist.argmin(axis=2)[not_black])


# --- statistics --------------------------------------------------------------------------------
@FAST
@given(labels=label_maps())
def test_class_shares_sum_to_100_percent(labels: np.ndarray) -> None:
    stats = area_stats(labels, DEFAULT_CLASSES)
    assert sum(stats.pixels.values()) == stats.total == labels.size
    assert abs(sum(stats.percent.values()) - 100.0) < 1e-9
    c, a = stats.pixels["corrosion"], stats.pixels["asset"]
    if c + a == 0:
        assert stats.corroded_share is None and not stats.has_asset
    else:
        assert stats.corroded_share is not None
        assert 0.0 <= stats.corroded_share <= 100.0
        assert abs(stats.corroded_share - 100.0 * c / (c + a)) < 1e-9


@FAST
@given(labels=label_maps(max_id=255))
def test_unknown_ids_count_in_the_total_only(labels: np.ndarray) -> None:
    stats = area_stats(labels, DEFAULT_CLASSES)
    known = int((labels < N_CLASSES).sum())
    assert sum(stats.pixels.values()) == known
    assert sum(stats.percent.values()) <= 100.0 + 1e-9


# --- grading -----------------------------------------------------------------------------------
shares = st.floats(0.0, 100.0, allow_nan=False)
CUTOFFS = sorted({u for t in (ASTM_D610, ISO_4628_3) for u, _ in t.cutoffs})


@FAST
@given(a=shares, b=shares)
def test_grades_are_monotone_in_the_corroded_share(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert grade(lo, GradeScale.ASTM_D610).value >= grade(hi, GradeScale.ASTM_D610).value  # 10 best
    assert grade(lo, GradeScale.ISO_4628_3).value <= grade(hi, GradeScale.ISO_4628_3).value  # Ri 0 best


@FAST
@given(cut=st.sampled_from(CUTOFFS), scale=st.sampled_from(list(GradeScale)))
def test_a_share_at_a_cut_off_gets_the_better_grade(cut: float, scale: GradeScale) -> None:
    at, above = grade(cut, scale), grade(min(100.0, np.nextafter(cut, 200.0)), scale)
    if any(u == cut for u, _ in scale.table.cutoffs):
        assert at.value != above.value
    assert at.label.endswith(str(at.value))


@FAST
@given(share=shares, scale=st.sampled_from(list(GradeScale)))
def test_every_share_gets_a_grade_of_its_table(share: float, scale: GradeScale) -> None:
    g = grade(share, scale)
    table = scale.table
    assert g.value in {v for _, v in table.cutoffs} | {table.above}


# --- tiling ------------------------------------------------------------------------------------
@FAST
@given(length=st.integers(1, 5000), tile=st.integers(8, 512), overlap=st.floats(0.0, 0.85))
def test_tiles_cover_every_row_and_stay_inside(length: int, tile: int, overlap: float) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts == sorted(set(starts))
    if length <= tile:
        assert starts == [0]
        return
    assert starts[-1] == length - tile
    assert all(b - a <= tile for a, b in itertools.pairwise(starts)), "no gap between tiles"


def _dominant_picture(labels: np.ndarray, seed: int) -> np.ndarray:
    """A photo whose largest channel is the class's own (red corrosion, blue asset, green background),
    by a clear margin, so the channel-argmax model's answer is known per pixel."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 120, (*labels.shape, 3)).astype(np.uint8)
    channel = np.array([0, 2, 1])[labels]
    rows, cols = np.indices(labels.shape)
    rgb[rows, cols, channel] = rng.integers(170, 256, labels.shape)
    return rgb


@SLOW
@given(
    hw=st.tuples(st.integers(1, 90), st.integers(1, 300)),
    overlap=st.sampled_from([0.0, 0.25, 0.5]),
    seed=st.integers(0, 1000),
)
def test_any_photo_shape_round_trips_through_tiles(
    model: SegmentationModel, hw: tuple[int, int], overlap: float, seed: int
) -> None:
    """Tiles mode gives back a label map of the photo's shape, and it is resize mode's answer except
    within reach of the coarse map's class edges (the band it refines, plus the blend's last pixel)."""
    labels = np.random.default_rng(seed).integers(0, N_CLASSES, hw).astype(np.uint8)
    rgb = _dominant_picture(labels, seed)
    seg = segment(model, rgb, InferenceOptions(mode=InferenceMode.TILES, tile_overlap=overlap))
    assert seg.labels.shape == hw and seg.confidence.shape == hw
    coarse = segment(model, rgb).labels
    th, tw = model.input_size
    ry, rx = (
        int(np.ceil((FINE_BAND_COARSE_PIXELS + 1) * n / t)) + 1 for n, t in zip(hw, (th, tw), strict=True)
    )
    edges = np.zeros(hw, np.uint8)
    edges[:-1] |= coarse[:-1] != coarse[1:]
    edges[1:] |= coarse[:-1] != coarse[1:]
    edges[:, :-1] |= coarse[:, :-1] != coarse[:, 1:]
    edges[:, 1:] |= coarse[:, :-1] != coarse[:, 1:]
    near = cv2.dilate(edges, np.ones((2 * ry + 1, 2 * rx + 1), np.uint8)).astype(bool)
    assert not ((seg.labels != coarse) & ~near).any()


# --- exports -----------------------------------------------------------------------------------
@FAST
@given(text=st.text(max_size=40))
def test_no_csv_cell_can_start_a_formula(text: str) -> None:
    cell = escape_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    shown = visible_controls(text)
    assert cell == shown or cell == "'" + shown
    assert not any(unicodedata.category(c) == "Cc" for c in cell), "controls are shown, never written raw"
    (row,) = list(csv.reader(io.StringIO(csv_text([[cell]], ["file"]), newline="")))[1:]
    assert row == [cell]


long_non_ascii = st.text(st.characters(min_codepoint=0x100, max_codepoint=0xFFFF), min_size=40, max_size=120)


@FAST
@given(name=st.one_of(st.text(min_size=1, max_size=300), long_non_ascii))
@example(name="写真" * 40)
def test_output_names_never_leave_the_output_folder(name: str) -> None:
    out = Path("/corroscope-out")
    stem = safe_stem(name)
    assert stem and stem not in (".", "..") and "/" not in stem and "\\" not in stem and "\x00" not in stem
    assert len(stem.encode("utf-8", "surrogatepass")) <= 101, "bytes: file names are limited to 255"
    for target in output_paths(out, stem).all():
        assert target.parent == out
        assert target.name.startswith(stem)


@FAST
@given(
    names=st.lists(
        st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s and "\x00" not in s), max_size=8
    )
)
def test_different_inputs_never_share_an_output(names: list[str]) -> None:
    paths = [Path("/photos") / f"{n}.png" for n in names] + [Path("/other") / f"{n}.png" for n in names]
    paths = list(dict.fromkeys(paths))
    stems = output_stems(paths)
    assert len({s.casefold() for s in stems.values()}) == len(paths)
