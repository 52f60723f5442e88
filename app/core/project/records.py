"""The records a project holds, as frozen dataclasses (what the store returns and takes)."""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.dates import early_problem, future_problem
from app.core.errors import ProjectError
from app.core.project.schema import NAME_LIMIT, REVIEWED, now_utc
from app.core.text import typed_problem

TILE_SCALE = "tile_scale"  # the key of a stored record that says a tiles-mode result's scale


@dataclass(frozen=True)
class Asset:
    id: int
    tag: str
    name: str = ""
    location: str = ""
    material: str = ""  # material or coating
    notes: str = ""


@dataclass(frozen=True)
class Inspection:
    id: int
    asset_id: int
    asset_tag: str
    date: _dt.date
    inspector: str
    notes: str
    photo_count: int


@dataclass(frozen=True)
class StoredPhoto:
    id: int
    inspection_id: int
    path: str  # absolute, as given when added (or where it was found again)
    rel_path: str | None  # relative to the project file's folder; None on a server or another drive
    sha256: str
    size: int
    exif_time: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, eq=False)
class StoredResult:
    """One analysis of a stored photo; a photo may hold several (e.g. a re-run with a newer model)."""

    id: int
    photo_id: int
    model_name: str
    model_sha256: str
    provider: str
    mode: str
    corroded_share: float | None
    astm_d610: int | None
    iso_4628_3: int | None
    needs_review: bool
    mean_confidence: float | None
    record: dict[str, Any] = field(repr=False)  # every figure and grade (app.core.export.result_to_dict)
    created_at: str = ""
    review_state: str = "unreviewed"
    reviewed_mask: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    scale_mm_per_px: float | None = None

    @property
    def tile_scale(self) -> float | None:
        """The tile scale of a tiles-mode result (in its record since it was stored there); else None."""
        value = self.record.get(TILE_SCALE) if self.mode == "tiles" else None
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def is_reviewed(self) -> bool:
        """Its figures come from a mask a reviewer signed (not the model's)."""
        return self.review_state == REVIEWED


@dataclass(frozen=True)
class PhotoFile:
    """A photo on disk as the project identifies it: its content hash, size and EXIF time."""

    path: Path
    sha256: str
    size: int
    exif_time: str | None


@dataclass(frozen=True, eq=False)
class PhotoEntry:
    """A photo analysed and ready to store: the file and its JSON record from `model_name`."""

    file: PhotoFile
    record: dict[str, Any] = field(repr=False)
    model_name: str = ""


@dataclass(frozen=True)
class AddOutcome:
    """What one `add_inspection` wrote: the inspection, the photos stored, those already there, those
    another inspection of the asset holds (refused)."""

    inspection_id: int
    created: bool  # a new inspection (False: photos added to an existing one)
    added: tuple[Path, ...]
    already_stored: tuple[Path, ...]
    refused: tuple[tuple[Path, str], ...] = ()  # (photo, why): another inspection of the asset holds it


def check_date(date: _dt.date, today: _dt.date | None = None) -> _dt.date:
    """An inspection's new date, refused (`ProjectError`) when before 1900 or later than tomorrow
    (`dates.early_problem`, `dates.future_problem`): the same for the command line and the window."""
    if (problem := early_problem(date) or future_problem(date, today)) is not None:
        raise ProjectError(problem)
    return date


def as_typed(text: str) -> str:
    """Typed text as a project stores and finds it: stripped, in Unicode's composed form (NFC). "Á"
    typed as one character or as A and a combining accent (a Mac keyboard, a pasted name) looks the same
    and is one asset or inspector, never two. Look-alikes that are other characters (full-width
    letters, Cyrillic "А") are not folded: they are other text."""
    return unicodedata.normalize("NFC", text.strip())


def check_typed(
    text: str, what: str, lines: bool = False, limit: int | None = None, formats: bool = False
) -> str:
    """`text` stripped and composed (`as_typed`); refused (`text.typed_problem`) when it holds a character
    that shows as something else than was typed (a terminal escape, a bidirectional override; with
    `formats`, any invisible format character), or is longer than `limit` characters (its
    column's). `lines` lets line breaks through."""
    # PostgreSQL refuses a long value only at the write, unnamed: checked here first
    if (problem := typed_problem(text, what, lines, limit, formats)) is not None:
        raise ProjectError(problem)
    return as_typed(text)


def check_name(text: str, what: str, formats: bool = False) -> str:
    """A name typed on one line (inspector, reviewer, who made a change): `check_typed` to its column's
    `NAME_LIMIT` characters."""
    return check_typed(text, what, limit=NAME_LIMIT, formats=formats)


def check_tag(tag: str) -> str:
    """An asset's tag as typed, stripped; refused when empty, too long, or holding a control or invisible
    format character (a zero-width space would make a second asset that looks like the first)."""
    tag = check_name(tag, "The asset's tag", formats=True)
    if not tag:
        raise ProjectError("An asset needs a tag (e.g. P-101-A)")
    return tag


ASSET_FACTS = ("name", "location", "material", "notes")


def check_asset_facts(facts: dict[str, str]) -> dict[str, str]:
    """An asset's facts as typed (name, location, material; notes keep their line breaks), each stripped;
    refused when one is unknown or holds a control character."""
    unknown = set(facts) - set(ASSET_FACTS)
    if unknown:
        raise ValueError(f"unknown asset fields: {sorted(unknown)}")
    return {k: check_typed(v, f"The asset's {k}", lines=k == "notes") for k, v in facts.items()}


@dataclass(frozen=True)
class ReviewMark:
    """A result signed by a reviewer: the mask file, who (not empty) and when (ISO 8601; default now)."""

    mask: str
    by: str
    at: str | None = None

    def values(self) -> dict[str, Any]:
        """The results table's columns of a reviewed result."""
        by = check_name(self.by, "The reviewer's name")
        if not by:
            raise ProjectError("A review needs the reviewer's name")
        at = self.at or now_utc()
        return dict(review_state=REVIEWED, reviewed_mask=str(self.mask), reviewed_by=by, reviewed_at=at)
