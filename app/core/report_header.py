"""What a client expects at the top of every report page: asset ID, location, client, inspector and
inspection date; from the project when the photo belongs to one, else as the user typed them."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.dates import typed_date_problem
from app.core.text import TEXT_LIMIT, typed_problem

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"  # the one way every report and message writes a moment
# Characters of one typed header field: the 200 of a project's tags and names, so a header field never
# holds more than its project's would; page_header still cuts a project's longer location to two lines.
HEADER_LIMIT = TEXT_LIMIT


@dataclass(frozen=True)
class ReportHeader:
    """The inspection's facts a report prints on each page; empty strings are "not given"."""

    asset_id: str = ""
    location: str = ""
    client: str = ""
    inspector: str = ""
    inspection_date: str = ""

    LABELS = (
        ("asset_id", "Asset ID"),
        ("location", "Location"),
        ("client", "Client"),
        ("inspector", "Inspector"),
        ("inspection_date", "Inspection date"),
    )

    def __post_init__(self) -> None:
        for name, _label in self.LABELS:
            object.__setattr__(self, name, " ".join(str(getattr(self, name) or "").split()))

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name, _label in self.LABELS)

    def problem(self) -> str | None:
        """Why this header cannot be printed, naming the field (`field_problem`); None when it can."""
        found = self.field_problem()
        return None if found is None else found[1]

    def field_problem(self) -> tuple[str, str] | None:
        """(field name, why) of the first field that cannot be printed; None when all can."""
        for name, _label in self.LABELS:
            if (problem := field_problem(name, getattr(self, name))) is not None:
                return name, problem
        return None

    def items(self) -> list[tuple[str, str]]:
        """(label, value) of every field, "–" for those not given (a client sees what is missing)."""
        return [(label, getattr(self, name) or "–") for name, label in self.LABELS]

    def filled_from(self, other: ReportHeader | None) -> ReportHeader:
        """This header with the fields it lacks taken from `other` (the user's typed values)."""
        if other is None:
            return self
        mine = {name: getattr(self, name) or getattr(other, name) for name, _label in self.LABELS}
        return ReportHeader(**mine)

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    def record_json(self) -> dict[str, str | None]:
        """The header as a photo's record and `results.csv` keep it: every field, null where not given."""
        return {name: getattr(self, name) or None for name, _label in self.LABELS}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> ReportHeader:
        """From `to_dict` or `record_json` data; anything that is not a mapping (an earlier record has
        no header) is the empty header."""
        names = {name for name, _label in cls.LABELS}
        values = values if isinstance(values, Mapping) else {}
        return cls(**{k: str(v) for k, v in values.items() if k in names and v is not None})


def field_problem(name: str, text: str) -> str | None:
    """Why typed `text` cannot be printed as the header's field `name`, naming it ("Location holds a
    control character (\\u202e); ..."); None when it can. The rules of a project's: the asset ID is a
    tag (no invisible character either), the others are names (joiners stay: scripts need them); at most
    `HEADER_LIMIT` characters; the date a real YYYY-MM-DD no later than tomorrow."""
    label = dict(ReportHeader.LABELS)[name]
    where = "a report header"
    problem = typed_problem(text, label, limit=HEADER_LIMIT, formats=name == "asset_id", where=where)
    if problem is None and name == "inspection_date" and (bad_date := typed_date_problem(text)):
        problem = f"{label}: {bad_date}"
    return problem


def time_text(moment: _dt.datetime | str | None = None) -> str:
    """A moment as every report writes it ("2026-12-06 02:44 UTC"); now when None. ISO strings such as
    a record's `reviewed_at` ("2026-12-06T02:43:04+00:00") are rewritten the same way."""
    if moment is None:
        moment = _dt.datetime.now(_dt.timezone.utc)
    elif isinstance(moment, str):
        try:
            moment = _dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment  # not a time we can read: shown as written rather than lost
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).strftime(TIME_FORMAT)


def project_header(project: Any, photo_path: str | Path, client: str = "") -> ReportHeader | None:
    """The header of a photo stored in `project` (an `app.core.project.store.Project`): its asset's tag
    and location, its inspection's inspector and date; None when the project does not hold the photo."""
    target = Path(photo_path).absolute()
    for inspection in project.inspections():
        for photo in project.photos(inspection.id):
            where = project.photo_file(photo, verify=False)  # sizes: a project's every photo is not read
            if where is not None and Path(where).absolute() == target and project.photo_file(photo):
                asset = project.asset(inspection.asset_tag)
                return ReportHeader(
                    asset_id=inspection.asset_tag,
                    location=asset.location if asset is not None else "",
                    client=client,
                    inspector=inspection.inspector,
                    inspection_date=inspection.date.isoformat(),
                )
    return None
