"""What the project panel, Compare and the tree say of stored things, as plain text: a photo's stored
figures, an asset's details, an inspection's name and summary, a photo's review mark."""

from __future__ import annotations

from app.core.figures import percent_text
from app.core.project import Asset, Inspection, StoredResult
from app.core.project.trend import (
    Trend,
    TrendRow,
    d610_text,
    falling_text,
    rate_text,
    review_counts,
    trend_row,
)
from app.core.report_header import time_text
from app.core.text import counted, provider_name

MODE_WORDS = {"resize": "whole photo", "tiles": "fine detail, tiles"}


def stored_figures_text(result: StoredResult | None) -> str:
    """The stored figures of a photo in a few lines, or why there are none."""
    if result is None:
        return "No result stored for this photo."
    # Named as the project's, in its mode: the figures panel beside it shows this window's own run, which
    # Model ▸ Fine detail or an edit can make differ.
    mode = MODE_WORDS.get(result.mode, result.mode)
    stored = f" on {time_text(result.created_at)}" if result.created_at else ""
    lines = [
        f"Stored in the project{stored} ({mode}):",
        f"Corroded share of the asset: {percent_text(result.corroded_share, unit=True)}",
    ]
    if result.astm_d610 is None:
        lines.append("No grade (no asset in view)")
    else:
        d610 = result.record.get("astm_d610_with_distribution") or result.astm_d610  # "2-S" as elsewhere
        lines.append(f"ASTM D610: {d610}   ISO 4628-3: Ri {result.iso_4628_3}")
    if result.needs_review:
        lines.append("Needs review: " + "; ".join(result.record.get("review_reasons", [])))
    provider = provider_name(result.provider)
    lines.append(f"Model {result.model_name} ({result.model_sha256[:12]}), {provider}, {result.mode}")
    reviewed = result.is_reviewed and bool(result.reviewed_by)
    if result.record.get("model_accuracy") and not reviewed:  # the model's typical error: its figures only
        lines.append(str(result.record["model_accuracy"]))
    if reviewed:
        when = f" on {time_text(result.reviewed_at)}" if result.reviewed_at else ""
        lines.append(f"Review: reviewed by {result.reviewed_by}{when}")
        if note := result.record.get("review_note"):
            lines.append(f"Reviewer's note: {note}")
        if result.reviewed_mask:
            lines.append(f"Reviewed mask: {result.reviewed_mask}")
    else:
        lines.append(f"Review: {result.review_state}")
    return "\n".join(lines)


ASSET_FIELDS = (("name", "Name"), ("location", "Location"), ("material", "Material or coating"))


def asset_text(asset: Asset, trend: Trend | None = None) -> str:
    """The asset's details in a few lines for the panel (those it has), then where its trend stands."""
    lines = [f"Asset {asset.tag}"]
    lines += [f"{label}: {getattr(asset, name)}" for name, label in ASSET_FIELDS if getattr(asset, name)]
    if asset.notes:
        lines.append(f"Notes: {asset.notes}")
    if len(lines) == 1:
        lines.append("No name, location or material yet (Asset details…).")
    if trend is not None and trend.rows:
        first, latest = trend.rows[0], trend.rows[-1]
        span = first.date.isoformat() if first is latest else f"{first.date} to {latest.date}"
        lines.append(f"{counted(len(trend.rows), 'inspection')}, {span}")
        lines += latest_lines([r for r in trend.rows if r.date == latest.date])
        lines.append(rate_text(trend))
        if caution := falling_text(trend):
            lines.append(caution)
    return "\n".join(lines)


def _figures(row: TrendRow) -> str | None:
    if row.corroded_share_mean is None or row.corroded_share_max is None:
        return None
    mean = percent_text(row.corroded_share_mean, unit=True)
    worst = percent_text(row.corroded_share_max, unit=True)
    return f"mean corroded share {mean}, worst photo {worst}, ASTM D610 {d610_text(row)}"


def latest_lines(rows: list[TrendRow]) -> list[str]:
    """The latest date's figures, dated and named by inspector: two inspections of one day (two
    inspectors) are both said, not only the one sorted last, which may be the better of the two."""
    said = [(row, _figures(row)) for row in rows]
    said = [(row, figures) for row, figures in said if figures is not None]
    if not said:
        return []
    date = said[0][0].date.isoformat()
    if len(said) == 1:
        row, figures = said[0]
        by = f" by {row.inspector}" if row.inspector else ""
        return [f"Latest ({date}{by}): {figures}"]
    lines = [f"Latest ({date}, {len(said)} inspections that day):"]
    return lines + [f"  {row.inspector or 'no inspector named'}: {figures}" for row, figures in said]


def inspection_label(inspection: Inspection) -> str:
    """ "P-101-A 2024-05-17 by A. Inspector" (without "by" when nobody is named)."""
    who = f" by {inspection.inspector}" if inspection.inspector else ""
    return f"{inspection.asset_tag} {inspection.date.isoformat()}{who}"


def inspection_text(inspection: Inspection, results: list[StoredResult]) -> str:
    """The inspection in a few lines for the panel: its photos and how many are reviewed, its figures as
    the trend counts them (newest result of each photo), and its notes."""
    row = trend_row(inspection, results)
    _reviewed, flagged = review_counts(results)
    lines = [
        f"Inspection {inspection_label(inspection)}",
        f"{counted(inspection.photo_count, 'photo')}: {row.reviewed} reviewed, {flagged} flagged for review",
    ]
    if row.corroded_share_mean is not None and row.corroded_share_max is not None:
        mean, worst = (
            percent_text(row.corroded_share_mean, unit=True),
            percent_text(row.corroded_share_max, unit=True),
        )
        lines.append(f"Corroded share of the asset: mean {mean}, worst photo {worst}")
        lines.append(f"Worst grades: ASTM D610 {d610_text(row)}, ISO 4628-3 Ri {row.iso_worst}")
    else:
        lines.append("No photo with an asset in view: no figures")
    lines.append(
        f"Notes: {inspection.notes}" if inspection.notes else "No notes (Correct inspection… adds them)."
    )
    return "\n".join(lines)


def correction_text(before: Inspection, after: Inspection) -> str:
    """What a correction changed, in words: "Corrected P-7 2024-05-01 by Ann: date 2024-05-02, notes."."""
    changes = [
        f"{what} {new}" if new else f"{what} removed"
        for what, old, new in (
            ("asset", before.asset_tag, after.asset_tag),
            ("date", before.date.isoformat(), after.date.isoformat()),
            ("inspector", before.inspector, after.inspector),
        )
        if old != new
    ]
    if before.notes != after.notes:
        changes.append("notes" if after.notes else "notes removed")
    said = ", ".join(changes) if changes else "nothing changed"
    return f"Corrected the inspection {inspection_label(before)}: {said}."


REVIEWED_MARK, REVIEW_MARK = "✔", "⚠"


def review_mark(result: StoredResult | None) -> tuple[str, str]:
    """(" ✔" / " ⚠" / "", its tooltip): a stored photo signed by a reviewer, or flagged for review."""
    if result is None:
        return "", "No result stored"
    if result.is_reviewed:
        return f" {REVIEWED_MARK}", f"Reviewed by {result.reviewed_by or 'someone'}"
    if result.needs_review:
        return f" {REVIEW_MARK}", "Needs review (the model's figures; pick it to see why)"
    return "", "The model's figures; no review needed"
