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
    NO_RANGE,
    GradeScale,
    ReviewPolicy,
    assess,
    grade,
)
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.share_range import ShareRange
from app.core.sources import EDITED_REASON
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


@pytest.mark.parametrize("shape", [(2700, 800), (3, 1_100_000), (0, 50), (40, 0)])
def test_stats_over_strips_count_every_pixel_once(shape: tuple[int, int]) -> None:
    """The classes are counted strip by strip: maps of several strips, a strip of one row, empty maps;
    ids of no class count in the total only."""
    labels = np.random.default_rng(5).integers(0, 5, shape, dtype=np.uint8)
    stats = area_stats(labels, DEFAULT_CLASSES)
    assert stats.pixels == {c.name: int((labels == c.id).sum()) for c in DEFAULT_CLASSES}
    assert stats.total == labels.size
    view = labels[::-2, ::3]  # a strided view
    assert area_stats(view, DEFAULT_CLASSES).pixels == {
        c.name: int((view == c.id).sum()) for c in DEFAULT_CLASSES
    }


def test_stats_without_asset_or_corrosion_has_no_share() -> None:
    stats = area_stats(np.full((7, 9), 2, np.uint8), DEFAULT_CLASSES)
    assert stats.corroded_share is None and not stats.has_asset
    assert stats.percent["background"] == 100.0


def test_only_corrosion_is_a_fully_corroded_asset() -> None:
    assert area_stats(_labels(10, 0, 0), DEFAULT_CLASSES).corroded_share == 100.0


def test_stats_use_class_names_not_positions() -> None:
    classes = (
        ClassInfo(0, "background", (0, 255, 0)),
        ClassInfo(1, "asset", (0, 0, 255)),
        ClassInfo(2, "corrosion", (255, 0, 0)),
    )
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


# The tables of docs/design.md section 6, written out independently of app.core.grading.
ASTM = [(0.01, 10), (0.03, 9), (0.1, 8), (0.3, 7), (1, 6), (3, 5), (10, 4), (16, 3), (33, 2), (50, 1)]
# ISO 4628-3: the nearest reference picture on a log scale; cut-offs at the neighbours' geometric means.
ISO = [(0.16, 1), (0.71, 2), (2.8, 3), (18, 4)]
ISO_REFERENCES = {0: "0 %", 1: "0.05 %", 2: "0.5 %", 3: "1 %", 4: "8 %", 5: "40-50 %"}


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


@pytest.mark.parametrize(
    ("share", "label"),
    [
        (0.05, "Ri 1"),
        (0.15, "Ri 1"),
        (0.17, "Ri 2"),
        (0.5, "Ri 2"),
        (0.72, "Ri 3"),
        (1.0, "Ri 3"),
        (2.9, "Ri 4"),
        (8.0, "Ri 4"),
        (9.72, "Ri 4"),
        (17.9, "Ri 4"),
        (19.0, "Ri 5"),
        (45.0, "Ri 5"),
    ],
)
def test_iso_4628_3_grades_a_share_as_its_nearest_reference_on_a_log_scale(share: float, label: str) -> None:
    assert grade(share, "iso_4628_3").label == label
    refs = {v: float(r.split()[0].split("-")[0]) for v, r in ISO_REFERENCES.items() if v > 0}
    refs[5] = 45.0  # the middle of 40-50 %
    nearest = min(refs, key=lambda v: abs(np.log(share) - np.log(refs[v])))
    assert label == f"Ri {nearest}"


def test_iso_4628_3_shows_the_reference_area_beside_the_ri() -> None:
    for value, reference in ISO_REFERENCES.items():
        share = {0: 0.0, 1: 0.05, 2: 0.5, 3: 1.0, 4: 8.0, 5: 45.0}[value]
        g = grade(share, "iso_4628_3")
        assert (g.value, g.reference) == (value, reference)
        assert g.display == f"Ri {value} (reference {reference})"
    assert grade(9.72, "iso_4628_3").display == "Ri 4 (reference 8 %)"  # once Ri 5 (40-50 %)
    assert grade(2.0, "astm_d610").reference is None and grade(2.0, "astm_d610").display == "5"


def test_the_reference_picture_beside_the_ri_does_not_read_as_the_share_measured() -> None:
    """A report read "Ri 5 (40-50 %)" beside "Corroded share 26.01 %"; the record's fields stay."""
    g = grade(26.01, "iso_4628_3")
    assert g.display == "Ri 5 (reference 40-50 %)"
    assert (g.label, g.reference) == ("Ri 5", "40-50 %")
    assert grade(63.33, "iso_4628_3").display == "Ri 5 (over 50 %)"  # past every picture: no reference


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
    assert dict(ISO_4628_3.references) == ISO_REFERENCES
    assert grade(1.5, "iso_4628_3").range_text == "0.71 % < p <= 2.8 %"
    assert grade(0.2, "astm_d610").range_text == "0.1 % < p <= 0.3 %"
    assert grade(60, "astm_d610").range_text == "p > 50 %"


def _stats_with_share(share_percent: float):
    corrosion = round(share_percent * 100)  # of 10 000 graded pixels
    return area_stats(_labels(corrosion, 10_000 - corrosion, 0, width=100), DEFAULT_CLASSES)


def _near(share: float, half: float = 0.05) -> ShareRange:
    """A calibrated range this narrow around the share."""
    return ShareRange(share, share - half, share + half)


def test_assess_far_from_cutoffs_and_confident() -> None:
    a = assess(_stats_with_share(5.0), 0.95, share_range=_near(5.0))
    assert (a.astm.value, a.iso.label) == (4, "Ri 4")
    assert not a.needs_review and a.reasons == ()
    assert a.grade_for("iso_4628_3") is a.iso


def test_assess_near_a_cutoff_needs_review_and_names_it() -> None:
    a = assess(_stats_with_share(2.9), 0.95, share_range=_near(2.9))  # 3 % is an ASTM D610 cut-off
    assert a.needs_review
    assert any("ASTM D610 cut-off 3 %" in r for r in a.reasons)
    tight = assess(_stats_with_share(2.9), 0.95, ReviewPolicy(margin=0.01), share_range=_near(2.9))
    assert not tight.needs_review


def test_the_review_reason_names_the_scale_the_user_reads() -> None:
    stats = _stats_with_share(10.0)  # 10 % is an ASTM D610 cut-off, far from every ISO 4628-3 one
    at_10 = ShareRange(10.0, 9.95, 10.0)  # touches the cut-off without crossing it
    iso = assess(stats, 0.95, scale=GradeScale.ISO_4628_3, share_range=at_10)
    assert iso.scale is GradeScale.ISO_4628_3
    assert not iso.needs_review and iso.reasons == ()
    assert iso.needs_review_for("astm_d610")
    near_10 = "corroded share 10.0 % is within 10 % of the ASTM D610 cut-off 10 %"
    assert iso.reasons_for("astm_d610") == (near_10,)
    astm = assess(stats, 0.95, scale="astm_d610", share_range=at_10)
    assert astm.needs_review and astm.reasons == iso.reasons_for("astm_d610")
    near_iso = assess(_stats_with_share(2.7), 0.95, scale="iso_4628_3", share_range=_near(2.7, 0.01))
    assert near_iso.reasons == ("corroded share 2.7 % is within 10 % of the ISO 4628-3 cut-off 2.8 %",)
    assert all("ISO" not in r for r in near_iso.reasons_for("astm_d610"))


def test_a_share_range_across_a_cutoff_needs_review() -> None:
    stats = _stats_with_share(5.0)
    assert not assess(stats, 0.95, share_range=ShareRange(5.0, 4.0, 6.0)).needs_review
    spans = assess(stats, 0.95, share_range=ShareRange(5.0, 2.6, 6.0))
    assert spans.reasons == ("the share's 80 % range 2.6-6.0 % spans the ASTM D610 cut-off 3 %",)
    iso = assess(stats, 0.95, scale="iso_4628_3", share_range=ShareRange(5.0, 2.6, 20.0))
    assert iso.reasons == ("the share's 80 % range 2.6-20.0 % spans the ISO 4628-3 cut-offs 2.8 %, 18 %",)
    assert not assess(stats, 0.95, scale="iso_4628_3", share_range=ShareRange(5.0, 3.0, 6.0)).needs_review


def test_a_model_mask_without_a_calibrated_range_always_needs_review() -> None:
    stats = _stats_with_share(5.0)  # far from every cut-off, confident: passed before calibration
    a = assess(stats, 0.95)
    assert a.needs_review and a.reasons == (NO_RANGE,)
    why = "no share range: the model file carries no range calibration"
    assert assess(stats, 0.95, range_note=why).reasons_for("iso_4628_3") == (why,)


def test_a_range_wider_than_the_calibration_trusts_needs_review() -> None:
    stats = _stats_with_share(70.0)  # D610 grade 0 from 50 to 100 %: a wide range stays in one band
    wide = ShareRange(70.0, 52.0, 88.0, review_max_width=20.0)
    a = assess(stats, 0.95, share_range=wide)
    assert a.needs_review and "uncertain by ±18 points (80 % range)" in a.reasons[0]
    assert not assess(
        stats, 0.95, share_range=ShareRange(70.0, 62.0, 78.0, review_max_width=20.0)
    ).needs_review


def test_an_edited_mask_needs_review_until_signed() -> None:
    stats = _stats_with_share(5.0)
    edited = assess(stats, 0.95, share_range=_near(5.0), source="edited")
    assert edited.needs_review and edited.reasons == (EDITED_REASON,)
    assert edited.reasons_for("iso_4628_3") == (EDITED_REASON,)
    signed = assess(stats, 0.2, source="reviewed")  # a person vouches for it: no range needed
    assert not signed.needs_review and signed.astm.value == 4
    with pytest.raises(ValueError):
        assess(stats, 0.95, source="guessed")


def test_assess_low_confidence_needs_review() -> None:
    a = assess(_stats_with_share(5.0), 0.41, ReviewPolicy(min_confidence=0.6), share_range=_near(5.0))
    assert a.needs_review and "mean confidence 0.41" in a.reasons[0]
    assert a.reasons_for("iso_4628_3") == a.reasons  # no cut-off of either scale near 5 %


def test_assess_without_asset_gives_no_grade_and_says_so() -> None:
    stats = area_stats(np.full((5, 5), 2, np.uint8), DEFAULT_CLASSES)
    a = assess(stats, None)
    assert a.astm is None and a.iso is None
    assert a.reasons == (NO_ASSET,) and a.needs_review
    assert a.reasons_for("iso_4628_3") == (NO_ASSET,)


def test_a_share_range_reads_the_same_in_the_review_reason_and_the_range_text() -> None:
    """ "0.707-43.5 %" in one place and "0.71-43.5 %" in another: one number format for both."""
    from app.core.grading import share_number

    assert share_number(0.7071) == "0.71" and share_number(43.46) == "43.5" and share_number(6) == "6.0"
    reasons = assess(_stats_with_share(21.0), 0.95, share_range=ShareRange(21.0, 0.7071, 43.46)).reasons
    assert any("range 0.71-43.5 %" in r for r in reasons), reasons
