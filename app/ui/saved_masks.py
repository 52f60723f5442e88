"""Where the window saves and finds a photo's corrected mask: `<stem>_mask.reviewed.png` only for a signed
mask, `<stem>_mask.edited.png` for an edit nobody signed, in `<photo folder> results`.

The names and the "edited" source belong to `app.core.reviewed` (three sources: model, edited,
reviewed). Until that core API is on this branch, the fallbacks below keep the same names and rules;
they go once it is (the window then uses the core's functions unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.core import reviewed as _core
from app.core.export import safe_stem
from app.core.report_header import time_text
from app.core.reviewed import REVIEWED_SUFFIX, ReviewState

EDITED_SUFFIX: str = getattr(_core, "EDITED_SUFFIX", "_mask.edited.png")
_EDITED_SOURCE: str | None = getattr(_core, "EDITED", None)


def is_signed(review: ReviewState | None) -> bool:
    """Reviewed with the reviewer's name: the only state saved as `.reviewed.png`."""
    return review is not None and review.is_reviewed and bool(review.reviewed_by.strip())


def signature_text(review: ReviewState) -> str:
    """Who signed and when, as the window says it: "Ann on 2026-12-06 12:07 UTC" (the reports' time)."""
    who, at = review.reviewed_by, review.reviewed_at
    return f"{who} on {time_text(at)}" if at else who


def corrected_mask_path(folder: Path, stem: str, review: ReviewState | None) -> Path:
    """`folder/<stem>_mask.reviewed.png` for a signed mask, `folder/<stem>_mask.edited.png` otherwise."""
    core = getattr(_core, "corrected_mask_path", None)
    if core is not None:
        return Path(core(folder, stem, review))
    return Path(folder) / f"{safe_stem(stem)}{REVIEWED_SUFFIX if is_signed(review) else EDITED_SUFFIX}"


def record_of(review: ReviewState) -> ReviewState | None:
    """The review record written into the mask PNG: the signed state as is; for an unsigned edit the
    "edited" source where the core knows it, else no record (never "model" for an edited mask)."""
    if is_signed(review):
        return review
    if _EDITED_SOURCE is not None:
        return ReviewState(_EDITED_SOURCE, note=review.note, model_sha256=review.model_sha256)
    return None


def find_corrected_mask(folders: Iterable[Path], stem: str) -> Path | None:
    """The first saved correction of `stem` in `folders`: a signed one before an unsigned edit."""
    folders = list(dict.fromkeys(Path(f) for f in folders))
    for suffix in (REVIEWED_SUFFIX, EDITED_SUFFIX):
        for folder in folders:
            candidate = folder / f"{safe_stem(stem)}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def review_of_mask(review: ReviewState | None) -> ReviewState:
    """The state of figures from a mask read from disk: its record when signed; otherwise unsigned (the
    core's "edited" where it knows it), whatever the file's name says."""
    if is_signed(review):
        assert review is not None
        return review
    if _EDITED_SOURCE is not None:
        note, sha = ("", "") if review is None else (review.note, review.model_sha256)
        return ReviewState(_EDITED_SOURCE, note=note, model_sha256=sha)
    return ReviewState()
