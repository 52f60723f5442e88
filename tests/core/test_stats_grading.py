"""Statistics on masks whose answer is known by construction; grades at every cut-off of both tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.grading import (
    ASTM_D610,
    ISO_4628_3,
    NO_ASSET,
    GradeScale,
    ReviewPolicy,
    assess,
    grade,
)
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.stats import area_stats


def _labels(corrosion: int, asset: int, background: int, width: int = 10) -> np.ndarray:
    flat = np.array([0] * corrosion + [1] * asset + [2] * background, dtype=np.uint8)
    return flat.reshape(-1, width)


def test_stats_on_a_mask_built_to_the_answer() -> None:
    stats = area_stats(_labels(25, 75, 100), DEFAULT_CLASSES)
    assert stats.pixels == {"corrosion": 25, "asset": 75, "background": 100}
    assert stats.percent == {"corrosion": 12.5, "asset": 37.5, "background": 50.0}
    assert stats.total == 200
    assert stats.corroded_share == 25.0
    assert stats.has_asset


def test_stats_without_asset_or_corrosion_has_no_share() -> None:
    stats = area_stats(np.full((7, 9), 2, np.uint8), DEFAULT_CLASSES)
    assert stats.corroded_share is None and not stats.has_asset
    assert stats.percent["background"] == 100.0


def test_only_corrosion_is_a_fully_corroded_asset() -> None:
    assert area_stats(_labels(10, 0, 0), DEFAULT_CLASSES).corroded_share == 100.0


def test_stats_use_class_names_not_positions() -> None:
    classes = (ClassInfo(0, "background", (0, 255, 0)), ClassInfo(1, "asset", (0, 0, 255)),
               ClassInfo(2, "corrosion", (255, 0, 0)))  # fmt: skip
    labels = np.array([[0, 0, 1, 1, 1, 2]], np.uint8)
    stats = area_stats(labels, classes)
    assert stats.pixels == {"background": 2, "asset": 3, "corrosion": 1}
    assert stats.corroded_share == pytest.approx(25.0)


@given(
    st.integers(0, 400),
    st.integers(0, 400),
    st.integers(0, 400),
)
def test_stats_add_up(c: int, a: int, b: int) -> None:
    total = c + a + b
    if total == 0:
        return
    stats = area_stats(np.array([[0] * c + [1] * a + [2] * b], np.uint8), DEFAULT_CLASSES)
    assert sum(stats.pixels.values()) == total
    assert sum(stats.percent.values()) == pytest.approx(100.0)
    if c + a:
        assert stats.corroded_share == pytest.approx(100 * c / (c + a))


# The tables of DESIGN.md section 6, written out independently of app.core.grading.
ASTM = [(0.01, 10), (0.03, 9), (0.1, 8), (0.3, 7), (1, 6), (3, 5), (10, 4), (16, 3), (33, 2), (50, 1)]
ISO = [(0.05, 1), (0.5, 2), (1, 3), (8, 4)]


@pytest.mark.parametrize(("cutoff", "value"), ASTM)
def test_astm_d610_at_every_cutoff(cutoff: float, value: int) -> None:
    assert grade(cutoff, GradeScale.ASTM_D610).value == value  # a share at the cut-off is in the grade
    assert grade(cutoff * 0.999, "astm_d610").value == value
    assert grade(cutoff * 1.001, "astm_d610").value == value - 1
    assert grade(cutoff, "astm_d610").label == str(value)


@pytest.mark.parametrize(("cutoff", "value"), ISO)
def test_iso_4628_3_at_every_cutoff(cutoff: float, value: int) -> None:
    assert grade(cutoff, GradeScale.ISO_4628_3).value == value
    assert grade(cutoff * 0.999, "iso_4628_3").value == value
    assert grade(cutoff * 1.001, "iso_4628_3").value == value + 1
    assert grade(cutoff, "iso_4628_3").label == f"Ri {value}"


def test_extremes_of_both_scales() -> None:
    assert grade(0.0, "astm_d610").value == 10
    assert grade(100.0, "astm_d610").value == 0
    assert grade(50.0001, "astm_d610").value == 0
    assert grade(0.0, "iso_4628_3").label == "Ri 0"
    assert grade(1e-9, "iso_4628_3").label == "Ri 1"
    assert grade(100.0, "iso_4628_3").label == "Ri 5"
    with pytest.raises(ValueError):
        grade(-1.0, "astm_d610")


def test_tables_match_the_design() -> None:
    assert [(u, v) for u, v in ASTM_D610.cutoffs] == [(float(u), v) for u, v in ASTM]
    assert ASTM_D610.above == 0 and ISO_4628_3.above == 5
    assert ISO_4628_3.cutoffs[0] == (0.0, 0)
    assert ISO_4628_3.cutoffs[1:] == tuple((float(u), v) for u, v in ISO)
    assert grade(0.2, "astm_d610").range_text == "0.1 % < p <= 0.3 %"
    assert grade(60, "astm_d610").range_text == "p > 50 %"


def _stats_with_share(share_percent: float):
    corrosion = round(share_percent * 100)  # of 10 000 graded pixels
    return area_stats(_labels(corrosion, 10_000 - corrosion, 0, width=100), DEFAULT_CLASSES)


def test_assess_far_from_cutoffs_and_confident() -> None:
    a = assess(_stats_with_share(5.0), 0.95)
    assert (a.astm.value, a.iso.label) == (4, "Ri 4")
    assert not a.needs_review and a.reasons == ()
    assert a.grade_for("iso_4628_3") is a.iso


def test_assess_near_a_cutoff_needs_review_and_names_it() -> None:
    a = assess(_stats_with_share(2.9), 0.95)  # 3 % is an ASTM D610 cut-off
    assert a.needs_review
    assert any("ASTM D610 cut-off 3 %" in r for r in a.reasons)
    tight = assess(_stats_with_share(2.9), 0.95, ReviewPolicy(margin=0.01))
    assert not tight.needs_review


def test_assess_low_confidence_needs_review() -> None:
    a = assess(_stats_with_share(5.0), 0.41, ReviewPolicy(min_confidence=0.6))
    assert a.needs_review and "mean confidence 0.41" in a.reasons[0]


def test_assess_without_asset_gives_no_grade_and_says_so() -> None:
    stats = area_stats(np.full((5, 5), 2, np.uint8), DEFAULT_CLASSES)
    a = assess(stats, None)
    assert a.astm is None and a.iso is None
    assert a.reasons == (NO_ASSET,) and a.needs_review
