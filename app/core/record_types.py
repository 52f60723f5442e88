"""The value types a per-photo record (`app.core.record.PhotoRecord`) holds or gives: the identity of
its photo file, the key figures of a one-line summary, the model's own figures beside reviewed ones, and
the error a file that is not a record of ours raises."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.analysis import PhotoFigures

_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
)


class Review(Protocol):
    """Where a photo's figures come from (`app.core.reviewed.ReviewState` is one)."""

    source: str
    reviewed_by: str
    reviewed_at: str
    note: str


class RecordError(ValueError):
    """A file or mapping that is not a record of ours; the text says why."""


@dataclass(frozen=True)
class PhotoIdentity:
    """The photo file a record describes: size, modification time and SHA-256 of its bytes."""

    bytes: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: str | os.PathLike[str], max_bytes: int = 1 << 30) -> PhotoIdentity:
        """The identity of the regular file at `path` of at most `max_bytes`; `OSError` for anything
        else (a FIFO is never waited on: it is opened without blocking and refused)."""
        fd = os.open(path, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                raise OSError(f"{path} is not a regular file within {max_bytes} bytes")
            h, total = hashlib.sha256(), 0
            while total <= max_bytes and (chunk := os.read(fd, 1 << 20)):
                h.update(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
        return cls(st.st_size, st.st_mtime_ns, h.hexdigest())

    def to_json(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "mtime_ns": self.mtime_ns, "sha256": self.sha256}

    def same_file(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path` still holds these bytes (compared by content: a copy that kept the old time,
        or a camera that reuses names, must not pass for the photo the record describes)."""
        try:
            return os.stat(path).st_size == self.bytes and PhotoIdentity.of(path).sha256 == self.sha256
        except OSError:
            return False


@dataclass(frozen=True)
class KeyFigures:
    """What a one-line summary of a photo says (the CLI's result line)."""

    corroded_share: float | None  # None: no asset in view
    share_range: tuple[float, float] | None
    astm_d610: str | None  # the label, with the distribution type where known ("6-G")
    iso_4628_3: str | None
    needs_review: bool
    corrosion_area_mm2: float | None
    figures_source: str
    range_label: str = "range"

    @classmethod
    def of_record(cls, d: Mapping[str, Any], figures_source: str) -> KeyFigures:
        """From a record's JSON mapping; `figures_source` is the record's (`PhotoRecord.figures_source`)."""
        astm, iso = d.get("astm_d610"), d.get("iso_4628_3")
        low, high = d.get("corroded_share_low"), d.get("corroded_share_high")
        return cls(
            d.get("corroded_share"),
            None if low is None or high is None else (low, high),
            d.get("astm_d610_with_distribution") or (None if astm is None else astm["label"]),
            None if iso is None else iso["label"],
            bool(d.get("needs_review")),
            d.get("corrosion_area_mm2"),
            figures_source,
            d.get("range_label") or "range",
        )


@dataclass(frozen=True)
class ModelFigures:
    """The model's own figures beside reviewed ones (the PDF shows both when they differ). Room here for
    more of the model's accuracy (its typical error on the share, say) as another change adds it."""

    corroded_share: float | None
    astm_d610: str | None  # the grade's label
    iso_4628_3: str | None

    @classmethod
    def of(cls, result: PhotoFigures) -> ModelFigures:
        a = result.assessment
        return cls(
            result.stats.corroded_share,
            None if a.astm is None else a.astm.label,
            None if a.iso is None else a.iso.label,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "corroded_share": self.corroded_share,
            "astm_d610": self.astm_d610,
            "iso_4628_3": self.iso_4628_3,
        }
