"""Patches, D610 distribution type and physical areas on label maps whose answer is known by construction."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from app.core import patches
from app.core.grading import ASTM_D610_DISTRIBUTION, d610_distribution, d610_label, grade
from app.core.measure_text import largest_patch_text
from app.core.measures import measure_photo
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.patches import HISTOGRAM_EDGES, default_min_pixels, patch_outlines, patch_stats
from app.core.physical import (
    MAX_MM_PER_PX,
    MIN_MM_PER_PX,
    OBLIQUE_NOTE,
    ScaleError,
    area_cell,
    area_mm2,
    check_scale,
    class_areas_mm2,
    format_area,
    rounded_area,
    scale_from_line,
)
from app.core.record_columns import CSV_FIELDS, csv_cells, measure_fields
from app.core.stats import area_stats

CORROSION, ASSET, BACKGROUND = 0, 1, 2
SIDE = 1000  # a 1000 x 1000 asset: 1 pixel is 0.0001 % of it


def _asset(side: int = SIDE) -> np.ndarray:
    return np.full((side, side), ASSET, np.uint8)


def _specks(labels: np.ndarray, size: int, step: int, offset: int = 10) -> int:
    """Square specks of size x size every `step` pixels; returns how many."""
    n = 0
    for y in range(offset, labels.shape[0] - size, step):
        for x in range(offset, labels.shape[1] - size, step):
            labels[y : y + size, x : x + size] = CORROSION
            n += 1
    return n


def _texture(seed: int, coverage: float) -> np.ndarray:
    """Smooth random blobs of many sizes over the whole asset (a threshold of blurred noise)."""
    rng = np.random.default_rng(seed)
    small = cv2.GaussianBlur(rng.random((100, 100)).astype(np.float32), (0, 0), 2.0)
    field = cv2.resize(small, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)
    labels = _asset()
    labels[field > np.quantile(field, 1.0 - coverage)] = CORROSION
    return labels


def test_one_big_patch_is_spot_rust_with_every_field() -> None:
    labels = _asset()
    labels[100:300, 400:600] = CORROSION  # 40 000 px = 4 % of the asset
    p = patch_stats(labels, DEFAULT_CLASSES)
    assert (p.asset_pixels, p.corrosion_pixels, p.count) == (SIDE * SIDE, 40_000, 1)
    assert (p.speck_count, p.speck_pixels) == (0, 0)
    assert p.largest_pixels == 40_000 and p.largest_share == pytest.approx(4.0)
    assert p.median_pixels == 40_000 and p.median_share == pytest.approx(4.0)
    assert p.top3_fraction == pytest.approx(100.0)
    assert p.largest[0].bbox == (400, 100, 200, 200) and p.largest[0].pixels == 40_000
    assert p.histogram() == [(0.0, 0.01, 0), (0.01, 0.1, 0), (0.1, 1.0, 0), (1.0, 10.0, 1), (10.0, 100.0, 0)]
    d = d610_distribution(p)
    assert d.type == "S" and d.name == "spot"
    assert d.evidence == "S: 1 patch holds 100 % of the corrosion"
    assert d610_label(grade(4.0, "astm_d610"), d) == "4-S"


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (2, "S: all 2 patches hold 100 %"),
        (3, "S: all 3 patches hold 100 %"),
        (4, "S: 4 patches, the largest 3 hold"),
    ],
)
def test_the_spot_evidence_says_all_patches_when_there_are_three_or_fewer(count: int, words: str) -> None:
    labels = _asset()
    for i in range(count):
        labels[100 + 200 * i : 150 + 200 * i, 400:450] = CORROSION  # 2,500 px each, apart
    d = d610_distribution(patch_stats(labels, DEFAULT_CLASSES))
    assert d.type == "S" and d.evidence.startswith(words) and d.evidence.endswith("of the corrosion")


def test_a_pixel_count_is_written_with_thousands_separators() -> None:
    labels = _asset()
    labels[100:300, 400:600] = CORROSION  # 40,000 px
    text = largest_patch_text(measure_photo(labels, DEFAULT_CLASSES))
    assert text == "4 % of the asset (40,000 px)"


def test_hundreds_of_tiny_specks_are_pinpoint_rust() -> None:
    labels = _asset()
    n = _specks(labels, size=5, step=50)  # 5 x 5 = 25 px each, 0.0025 % of the asset
    assert n == 400
    p = patch_stats(labels, DEFAULT_CLASSES)
    assert p.min_pixels == default_min_pixels(SIDE, SIDE) == 16  # one cell of a 256 x 256 grid
    assert (p.count, p.speck_count, p.corrosion_pixels) == (400, 0, 400 * 25)
    assert p.median_pixels == 25 and p.median_share == pytest.approx(0.0025)
    assert p.top3_fraction == pytest.approx(0.75)
    assert p.histogram()[0] == (0.0, 0.01, 400)
    d = d610_distribution(p)
    assert d.type == "P"
    assert d.evidence == "P: 400 patches, median 0.0025 % of the asset"


def test_a_random_texture_is_general_rust() -> None:
    labels = _texture(seed=7, coverage=0.2)
    p = patch_stats(labels, DEFAULT_CLASSES)
    assert p.corrosion_pixels == pytest.approx(0.2 * SIDE * SIDE, rel=0.01)
    assert p.count >= 30, "many patches spread over the asset"
    assert p.top3_fraction < ASTM_D610_DISTRIBUTION.spot_top3
    assert sum(n for _, _, n in p.histogram()) == p.count
    d = d610_distribution(p)
    assert d.type == "G", d.evidence
    assert d.evidence.startswith(f"G: {p.count} patches, median ")


def test_a_big_patch_among_hundreds_of_specks_is_hybrid() -> None:
    labels = _asset()
    n = _specks(labels, size=5, step=50)
    labels[300:600, 300:600] = CORROSION  # 90 000 px over some specks
    p = patch_stats(labels, DEFAULT_CLASSES)
    inside = 36  # specks at 310..560 in both directions merged into the big patch
    assert p.count == n - inside + 1 and p.largest_pixels == 90_000
    assert p.top3_fraction == pytest.approx(100 * (90_000 + 50) / p.corrosion_pixels)
    d = d610_distribution(p)
    assert d.type == "H"
    assert (
        d.evidence
        == f"H: the largest 3 patches hold {p.top3_fraction:.0f} % of the corrosion, beside 364 pinpoints"
    )


def test_corrosion_over_most_of_the_asset_is_general_whatever_its_patches() -> None:
    labels = _asset()
    labels[:600] = CORROSION
    d = d610_distribution(patch_stats(labels, DEFAULT_CLASSES))
    assert (d.type, d.evidence) == ("G", "G: 60 % of the asset corroded, the largest patch 60 %")
    labels = _asset()
    labels[:300], labels[-260:] = CORROSION, CORROSION  # two patches, 56 % together: no longer spot rust
    d = d610_distribution(patch_stats(labels, DEFAULT_CLASSES))
    assert (d.type, d.evidence) == ("G", "G: 56 % of the asset corroded, the largest patch 30 %")
    labels[:80] = ASSET  # 48 %: two spots
    assert d610_distribution(patch_stats(labels, DEFAULT_CLASSES)).type == "S"


def test_specks_below_the_minimum_are_counted_apart_not_dropped() -> None:
    labels = _asset()
    labels[100:300, 400:600] = CORROSION
    for k in range(50):
        labels[700 + 2 * (k // 10) * 5, 10 + 20 * (k % 10)] = CORROSION  # single pixels, far apart
    p = patch_stats(labels, DEFAULT_CLASSES)
    assert (p.count, p.speck_count, p.speck_pixels) == (1, 50, 50)
    assert p.corrosion_pixels == 40_050 == sum(p.sizes) + p.speck_pixels
    assert p.top3_fraction == pytest.approx(100 * 40_000 / 40_050)
    assert patch_stats(labels, DEFAULT_CLASSES, min_pixels=1).count == 51
    js = p.to_json()
    assert js["specks"] == {"count": 50, "pixels": 50} and js["min_patch_pixels"] == 16
    assert d610_distribution(p).type == "S"  # specks are below what the model resolves: no pinpoints


def test_patches_use_8_connectivity_and_background_separates_them() -> None:
    labels = np.full((20, 20), BACKGROUND, np.uint8)
    labels[2:6, 2:6] = CORROSION
    labels[6:10, 6:10] = CORROSION  # touches the first only at a corner: one patch
    labels[12:16, 2:18] = ASSET
    labels[12:16, 2:4] = CORROSION
    labels[12:16, 10:12] = CORROSION  # asset between: two more patches
    p = patch_stats(labels, DEFAULT_CLASSES, min_pixels=1)
    assert p.sizes == (32, 8, 8)
    assert p.asset_pixels == 32 + 64  # corrosion and asset pixels: the pipe in view
    assert sum(p.share(s) for s in p.sizes) == pytest.approx(
        area_stats(labels, DEFAULT_CLASSES).corroded_share
    )


def test_no_asset_in_view_has_no_patches_and_a_clean_asset_has_none() -> None:
    assert patch_stats(np.full((50, 50), BACKGROUND, np.uint8), DEFAULT_CLASSES) is None
    assert d610_distribution(None) is None
    clean = patch_stats(_asset(100), DEFAULT_CLASSES)
    assert (clean.count, clean.largest_pixels, clean.median_pixels, clean.top3_fraction) == (0, 0, None, None)
    assert d610_distribution(clean) is None
    assert d610_label(grade(0.0, "astm_d610"), None) == "10"
    assert d610_label(None, None) is None
    no_corrosion_class = (ClassInfo(0, "asset", (0, 0, 255)), ClassInfo(1, "background", (0, 255, 0)))
    assert patch_stats(np.zeros((5, 5), np.uint8), no_corrosion_class) is None


def test_patches_json_with_and_without_a_scale() -> None:
    labels = _asset()
    labels[100:300, 400:600] = CORROSION
    p = patch_stats(labels, DEFAULT_CLASSES)
    plain = p.to_json()
    assert plain["count"] == 1 and plain["connectivity"] == 8
    assert plain["largest"] == {"pixels": 40_000, "share": 4.0}
    assert plain["top3_share_of_corrosion"] == 100.0
    assert [b["count"] for b in plain["histogram"]] == [0, 0, 0, 1, 0]
    assert [b["from_share"] for b in plain["histogram"]] == list(HISTOGRAM_EDGES[:-1])
    assert plain["largest_patches"] == [{"pixels": 40_000, "share": 4.0, "bbox": [400, 100, 200, 200]}]
    assert "area_mm2" not in json.dumps(plain)  # nothing claims physical units without a scale
    scaled = p.to_json(mm_per_px=0.5)
    assert scaled["largest"]["area_mm2"] == 10_000.0 and scaled["median"]["area_mm2"] == 10_000.0
    json.dumps(scaled)


def test_a_known_scale_gives_exact_areas() -> None:
    assert area_mm2(40_000, 0.5) == 10_000.0  # 200 x 200 px at 0.5 mm/px is 100 x 100 mm
    assert area_mm2(1, 2.0) == 4.0
    assert class_areas_mm2({"corrosion": 400, "asset": 100}, 0.25) == {"corrosion": 25.0, "asset": 6.25}
    assert class_areas_mm2({"corrosion": 400}, None) is None
    assert scale_from_line(200.0, 50.0) == 0.25  # a 50 mm ruler drawn 200 px long
    assert [format_area(v) for v in (6.25, 10_000.0, 123_456.0, 2.5e6)] == [
        "6.25 mm²",
        "100 cm²",
        "1235 cm²",
        "2.5 m²",
    ]
    assert "oblique" in OBLIQUE_NOTE
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ScaleError):
            check_scale(bad)
    with pytest.raises(ScaleError):
        scale_from_line(0.0, 50.0)
    with pytest.raises(ScaleError):
        scale_from_line(10.0, -5.0)


def test_a_scale_finer_than_light_resolves_is_refused() -> None:
    assert check_scale(MIN_MM_PER_PX) == 1e-4 and check_scale(MAX_MM_PER_PX) == 10_000.0
    for bad in (1e-300, 5e-5, 10_000.5):
        with pytest.raises(ScaleError, match=r"from 0\.0001 to 10,000"):
            check_scale(bad)
    with pytest.raises(ScaleError):
        scale_from_line(20_000.0, 1.0)  # a 1 mm length drawn 20,000 px long: 0.05 µm a pixel


def test_a_small_corroded_area_is_never_written_as_0() -> None:
    """At the finest scale a pixel is 1e-8 mm²: 3 decimals would write it 0, which says "no corrosion"."""
    labels = _asset(40)
    labels[5:7, 5:7] = CORROSION  # 4 pixels
    m = measure_photo(labels, DEFAULT_CLASSES, mm_per_px=MIN_MM_PER_PX, min_patch_pixels=1)
    fields = measure_fields(m)
    assert fields["corrosion_area_mm2"] == pytest.approx(4e-8)
    assert fields["class_areas_mm2"]["corrosion"] == pytest.approx(4e-8)
    assert fields["patches"]["largest"]["area_mm2"] == pytest.approx(4e-8)
    assert dict(zip(CSV_FIELDS, csv_cells(fields), strict=True))["corrosion_area_mm2"] == "4e-08"
    assert format_area(m.corrosion_area_mm2) == "4e-08 mm²"
    assert rounded_area(0.0) == 0.0 and area_cell(0.0) == "0.0000"  # no corrosion stays 0
    assert rounded_area(1234.56789) == 1234.568 and area_cell(1234.56789) == "1234.5679"


def test_outlines_trace_each_patch_inside_its_edge() -> None:
    labels = _asset(40)
    labels[10:20, 10:20] = CORROSION
    labels[30:32, 30:33] = CORROSION
    outline = patch_outlines(labels, DEFAULT_CLASSES)
    assert outline.dtype == np.uint8 and set(np.unique(outline)) == {0, 255}
    square = np.zeros((40, 40), bool)
    square[10:20, 10:20] = True
    square[11:19, 11:19] = False
    small = np.zeros((40, 40), bool)
    small[30:32, 30:33] = True  # too thin for an inside: all outline
    np.testing.assert_array_equal(outline == 255, square | small)
    thick = patch_outlines(labels, DEFAULT_CLASSES, thickness=2)
    assert int((thick[10:20, 10:20] == 255).sum()) == 100 - 36
    assert not (thick[labels != CORROSION]).any()
    with pytest.raises(ValueError):
        patch_outlines(labels, DEFAULT_CLASSES, thickness=0)


def test_labels_must_be_a_uint8_map() -> None:
    with pytest.raises(ValueError):
        patch_stats(np.zeros((4, 4), np.int32), DEFAULT_CLASSES)


@pytest.mark.parametrize("share", [0.02, 0.3, 0.7])
def test_dense_masks_get_the_same_patches_from_opencv_s_statistics(
    share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of measuring the components give the same sizes, order (ties by label) and boxes."""
    rng = np.random.default_rng(int(share * 100))
    small = (rng.random((60, 80)) < share).astype(np.uint8)
    mask = cv2.resize(small, (800, 600), interpolation=cv2.INTER_NEAREST)
    mask[::97, :] = 0  # cuts that make many patches of equal size (ties)
    mask[:5, :5] = 1
    mask[7, 7] = 1  # a one-pixel speck
    for min_pixels in (1, 50, 5000):
        areas, largest = patches._components(mask, min_pixels)
        dense_areas, dense_largest = patches._components_dense(mask, min_pixels)
        np.testing.assert_array_equal(areas, dense_areas)
        assert largest == dense_largest
    labels = np.where(mask == 1, CORROSION, ASSET).astype(np.uint8)
    assert (np.count_nonzero(mask) > patches.DENSE_SHARE * mask.size) == (share > 0.15)
    chosen = patch_stats(labels, DEFAULT_CLASSES)
    monkeypatch.setattr(patches, "DENSE_SHARE", 2.0)  # never dense: the corroded pixels' own passes
    assert chosen == patch_stats(labels, DEFAULT_CLASSES)


def test_sparse_patches_across_strips_equal_opencv_s_statistics() -> None:
    """The corroded pixels' own passes go strip by strip (a bool view of the mask): patches that span
    strips, and strips with none, give OpenCV's sizes, order and boxes."""
    rng = np.random.default_rng(11)
    small = (rng.random((90, 32)) < 0.05).astype(np.uint8)
    mask = cv2.resize(small, (800, 2700), interpolation=cv2.INTER_NEAREST)  # patches 30 rows tall
    rows = patches._STRIP_PIXELS // mask.shape[1]
    assert mask.shape[0] > 2 * rows  # three strips
    mask[rows - 40 : rows + 40, 100:180] = 1  # one patch across the first strip boundary
    mask[2 * rows - 5 : 2 * rows + 400, 600:603] = 1
    mask[rows + 50 : 2 * rows - 50, 300:500] = 0  # a band with no corrosion
    for min_pixels in (1, 200):
        areas, largest = patches._components(mask, min_pixels)
        dense_areas, dense_largest = patches._components_dense(mask, min_pixels)
        np.testing.assert_array_equal(areas, dense_areas)
        assert largest == dense_largest and len(largest) == patches.LARGEST_LISTED


@pytest.mark.parametrize("corner", [(37, 51), (38, 50), (37, 50), (0, 0)])
@pytest.mark.parametrize("threads", [1, 2])
def test_the_corroded_box_is_labelled_as_the_whole_mask(corner: tuple[int, int], threads: int) -> None:
    """The sparse path labels only the box around the corrosion, from an even row and column: patches
    of equal size (ties, listed in label order) come out in the order of OpenCV's statistics over the
    whole mask, whatever the corner's parity; from the odd corner itself the labels would differ."""
    rng = np.random.default_rng(sum(corner))
    mask = np.zeros((601, 803), np.uint8)
    y, x = corner
    for top, left in zip(rng.integers(y, 590, 60), rng.integers(x, 790, 60), strict=True):
        mask[top : top + 3, left : left + 3] = 1  # squares of 9 pixels, some touching: ties and merges
    mask[rng.integers(y, 601, 300), rng.integers(x, 803, 300)] = 1  # specks
    mask[y, x + 1 : x + 4] = 1  # the first corroded row starts at the corner's row
    mask[y + 1 : y + 5, x] = 1  # and the first corroded column at its column
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        for min_pixels in (1, 9):
            areas, largest = patches._components(mask, min_pixels)
            dense_areas, dense_largest = patches._components_dense(mask, min_pixels)
            np.testing.assert_array_equal(areas, dense_areas)
            assert largest == dense_largest and len(largest) == patches.LARGEST_LISTED
        if y % 2 and x % 2:
            _, whole = cv2.connectedComponents(mask, connectivity=8, ltype=cv2.CV_32S)
            _, odd = cv2.connectedComponents(mask[y:, x:], connectivity=8, ltype=cv2.CV_32S)
            assert not np.array_equal(odd, whole[y:, x:])  # why the box starts on an even corner
    finally:
        cv2.setNumThreads(before)


@pytest.mark.parametrize("case", ["patches", "dense", "no corrosion", "no asset", "ids of no class"])
def test_patches_from_the_area_counts_equal_those_counted_afresh(case: str) -> None:
    """`measure_photo` hands the area counts to `patch_stats` instead of counting the classes again."""
    rng = np.random.default_rng(3)
    labels = _asset(300)
    if case in ("patches", "ids of no class"):
        labels[rng.random(labels.shape) < 0.02] = CORROSION
        labels[:40] = BACKGROUND
    if case == "ids of no class":
        labels[50:60] = 7
    if case == "dense":
        labels[rng.random(labels.shape) < 0.6] = CORROSION
    if case == "no asset":
        labels[:] = BACKGROUND
    counts = area_stats(labels, DEFAULT_CLASSES).pixels
    assert patch_stats(labels, DEFAULT_CLASSES, counts=counts) == patch_stats(labels, DEFAULT_CLASSES)
    assert measure_photo(labels, DEFAULT_CLASSES).patches == patch_stats(labels, DEFAULT_CLASSES)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_dense_labelling_equals_opencv_s_default(threads: int) -> None:
    """`patches.dense_components` (BBDT) gives the default algorithm's labels and statistics, label for
    label, on masks of every density: the patches' order (ties by label) cannot change."""
    rng = np.random.default_rng(threads)
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        for i in range(60):
            h, w = (int(v) for v in rng.integers(1, 300, 2))
            mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
            if i % 2:  # blobs, not salt: components that meet inside 2 x 2 blocks
                mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
            n, cc, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
            fast = patches.dense_components(mask)
            assert fast[0] == n
            np.testing.assert_array_equal(fast[1], cc)
            np.testing.assert_array_equal(fast[2], stats)
            np.testing.assert_array_equal(fast[3], centroids)
        big = (cv2.resize(rng.random((60, 80)), (1600, 1200)) < 0.5).astype(np.uint8)  # parallel stripes
        np.testing.assert_array_equal(
            patches.dense_components(big)[1],
            cv2.connectedComponents(big, connectivity=8, ltype=cv2.CV_32S)[1],
        )
    finally:
        cv2.setNumThreads(before)


def test_a_mask_without_corrosion_has_no_patches_even_when_the_counts_say_otherwise() -> None:
    """Counts kept while editing could go stale: the labelling must then find nothing, not crash."""
    labels = np.full((50, 60), 1, np.uint8)  # all asset
    counts = {"corrosion": 5, "asset": 2995, "background": 0}
    stats = patches.patch_stats(labels, DEFAULT_CLASSES, counts=counts)
    assert stats is not None and stats.count == 0


def test_patch_statistics_of_a_big_sparse_map_go_strip_by_strip() -> None:
    """A 16 MP map with corrosion just under the dense share takes the component path: its statistics
    go strip by strip, so the traced (numpy) memory stays near the map's own labels (about 5 bytes a
    pixel); indices of every corroded pixel at once took 7.8."""
    import tracemalloc

    from app.core.patches import DENSE_SHARE

    labels = np.full((4000, 4000), 1, np.uint8)
    labels[: int(4000 * DENSE_SHARE * 0.95)] = 0  # corrosion (id 0) on the top rows
    tracemalloc.start()
    try:
        stats = patch_stats(labels, DEFAULT_CLASSES)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats is not None and stats.count == 1
    assert peak / labels.size < 6.0, f"{peak / labels.size:.2f} bytes a pixel"
