"""Where the window saves and finds a photo's corrected mask: `<stem>_mask.reviewed.png` only for a signed
mask, `<stem>_mask.edited.png` for an edit nobody signed, in `<photo folder> results`. The names and the
three sources (model, edited, reviewed) are `app.core.reviewed`'s and `app.core.sources`'s."""

from __future__ import annotations

from pathlib import Path

from app.core.report_header import time_text
from app.core.reviewed import EDITED_SUFFIX, REVIEWED_SUFFIX, ReviewState, corrected_mask_path
from app.core.text import safe_path
from app.ui.long_words import elide_long_words

__all__ = [
    "corrected_mask_path",
    "is_signed",
    "not_used_text",
    "review_line",
    "shown_signature",
    "signature_text",
]


def is_signed(review: ReviewState | None) -> bool:
    """Reviewed with the reviewer's name: the only state saved as `.reviewed.png`."""
    return review is not None and review.is_signed


def signature_text(review: ReviewState) -> str:
    """Who signed and when, as the window says it: "Ann on 2026-12-06 12:07 UTC" (the reports' time)."""
    who, at = review.reviewed_by, review.reviewed_at
    return f"{who} on {time_text(at)}" if at else who


def shown_signature(review: ReviewState) -> str:
    """`signature_text` for the figures panel: a name with a word too long for the panel (one stored by
    an older version, before names were limited) elided in its middle, so the panel never scrolls."""
    who, at = elide_long_words(review.reviewed_by), review.reviewed_at
    return f"{who} on {time_text(at)}" if at else who


def not_used_text(mask: Path, reason: str) -> str:
    """Why a saved correction was not opened, naming it by its kind (an unsigned edit is no "reviewed
    mask") and its folder (the reason names the file only)."""
    name = mask.name
    kind = (
        "Reviewed mask"
        if name.endswith(REVIEWED_SUFFIX)
        else "Saved correction (edited, not reviewed)"
        if name.endswith(EDITED_SUFFIX)
        else "Corrected mask"
    )
    return f"{kind} not used: {reason} (in {safe_path(str(mask.parent))})"


def review_line(review: ReviewState) -> str:
    """What a report card says of figures an inspector touched: "reviewed by Ann on …" or that the
    mask was edited and nobody signed it."""
    return f"reviewed by {signature_text(review)}" if is_signed(review) else "edited, not reviewed"
