"""The Model information dialog's "Adaptation" section: an adapted model's provenance from its metadata
(`corroscope.adaptation`, written by `app.core.adapt`), read as untrusted text and cut to size."""

from __future__ import annotations

import html
import math
from itertools import islice
from typing import Any

from app.core.adapt import KEY_ADAPTATION
from app.core.adapt_record import check_record
from app.core.text import counted, safe_text

_SHOWN = 400  # characters of one value shown
_MAX_PHOTOS = 100  # photos listed; the rest counted
_MAX_SETTINGS = 30
_MAX_STEPS = 20

_ADAPTED_MARK = "; adapted to "  # how `app.core.adapt` ends the base model's trained-on text


def trained_on_text(meta: dict[str, str], trained_on: str) -> str:
    """The trained-on row: an adapted model's says first what this file was adapted to, then that the
    data set and validation figures written there are its base model's; others' as written."""
    if KEY_ADAPTATION not in meta:
        return trained_on
    base, mark, added = trained_on.rpartition(_ADAPTED_MARK)
    this = f"this file: adapted to {added}; " if mark else "this file: adapted (see Adaptation); "
    return f"{this}its base model (not this file) was trained on: {base if mark else trained_on}"


def adaptation_html(meta: dict[str, str]) -> list[str]:
    """The section's HTML parts; empty for a model that is not adapted. Every value is cut and escaped."""
    if KEY_ADAPTATION not in meta:
        return []
    data, why = check_record(meta)
    parts = ["<h3>Adaptation</h3>"]
    if data is None:
        because = f" ({html.escape(why)})" if why else ""
        return [
            *parts,
            f"<p>This model says it was adapted, but its record of how is not readable{because}.</p>",
        ]
    base = data.get("base_model") if isinstance(data.get("base_model"), dict) else {}
    rows = [
        ("Base model", f"{_text(base.get('file'))} (SHA-256 {_text(base.get('sha256'), 64)})"),
        ("Adapted", _text(data.get("created"))),
        ("Method", _text(data.get("method"))),
        ("Settings", _settings(data.get("settings"))),
        ("Leave-one-out", _loo(data.get("leave_one_out"))),
    ]
    steps = data.get("chain")
    if isinstance(steps, list) and len(steps) > 1:  # adapted from an adapted model: every step
        rows.insert(1, ("Adaptations", _chain(steps)))
    parts.append("<table cellspacing=4>")
    parts += [f"<tr><td><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    return parts + _photos_html(data.get("photos"))


def _text(value: Any, limit: int = _SHOWN) -> str:
    return "not stated" if value in (None, "") else safe_text(value, limit)


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _settings(raw: Any) -> str:
    if not isinstance(raw, dict):
        return "not stated"
    shown = ", ".join(f"{safe_text(k, 40)} {safe_text(v, 40)}" for k, v in islice(raw.items(), _MAX_SETTINGS))
    more = len(raw) - _MAX_SETTINGS
    return shown + (f", and {more} more" if more > 0 else "")


def _loo(raw: Any) -> str:
    """ "corroded-share error 12.3 → 4.5 points (mean), ASTM D610 grade equal on 40 % → 80 % of 5 photos:
    base model → adapted", each photo scored by a model adapted on the others."""
    raw = raw if isinstance(raw, dict) else {}
    before, after = (raw.get(k) if isinstance(raw.get(k), dict) else {} for k in ("base", "adapted"))
    error = [_number(f.get("share_error")) for f in (before, after)]
    same = [_number(f.get("d610_agreement")) for f in (before, after)]
    photos = _number(after.get("photos"))
    if None in error or None in same or photos is None:
        return "not stated"
    left = raw.get("left_out_used_before")
    unscored = (
        f"; not scored: the {counted(len(left), 'photo')} an earlier adaptation used (the base saw them)"
        if isinstance(left, list) and left
        else ""
    )
    return (
        f"corroded-share error {error[0]:.1f} → {error[1]:.1f} points (mean), ASTM D610 grade equal on "
        f"{same[0] * 100:.0f} % → {same[1] * 100:.0f} % of {counted(int(photos), 'photo')}: base model → "
        f"adapted (each photo scored by a model adapted on the others){unscored}"
    )


def _chain(steps: list) -> str:
    """ "1. model.onnx (SHA-256 ab12…), 10 photos; 2. site.onnx (…), 12 photos, 4 of them used before" """
    shown, seen = [], set()
    for n, step in enumerate(islice(steps, _MAX_STEPS), 1):
        step = step if isinstance(step, dict) else {}
        base = step.get("base_model") if isinstance(step.get("base_model"), dict) else {}
        shas = step.get("photo_sha256") if isinstance(step.get("photo_sha256"), list) else []
        shas = {s for s in shas if isinstance(s, str)}
        again = len(shas & seen)
        seen |= shas
        photos = _number(step.get("photos"))
        count = "photos not stated" if photos is None else counted(int(photos), "photo")
        sha = base.get("sha256")
        short = f"{_text(sha[:12])}…" if isinstance(sha, str) and sha else "not stated"
        text = f"{n}. {_text(base.get('file'), 80)} (SHA-256 {short}), {count}"
        shown.append(text + (f", {again} of them used before" if again else ""))
    more = len(steps) - _MAX_STEPS
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _photos_html(raw: Any) -> list[str]:
    """The reviewed photos and masks it was adapted on, with their SHA-256s and who signed each mask."""
    if not isinstance(raw, list) or not raw:
        return ["<p>The photos it was adapted on are not listed.</p>"]
    e = html.escape
    shown = [p if isinstance(p, dict) else {} for p in raw]
    signed = sum(bool(p.get("reviewed_by")) for p in shown)
    # "reviewed" only for signed masks (docs/design.md section 10)
    what = (
        counted(len(raw), "reviewed photo")
        if signed == len(raw)
        else f"{counted(len(raw), 'photo')} with corrected masks, {signed} of them signed"
    )
    parts = [
        f"<p><b>Adapted on {what}</b></p><table cellspacing=4>",
        "<tr><th>photo</th><th>photo SHA-256</th><th>mask</th><th>mask SHA-256</th>"
        "<th>reviewed by</th><th>reviewed at</th></tr>",
    ]
    for p in islice(raw, _MAX_PHOTOS):
        p = p if isinstance(p, dict) else {}
        who = _text(p.get("reviewed_by")) if p.get("reviewed_by") else "not signed"
        cells = [
            _text(p.get("photo")),
            _text(p.get("sha256"), 64),
            _text(p.get("mask")),
            _text(p.get("mask_sha256"), 64),
            who,
            _text(p.get("reviewed_at"), 64),
        ]
        parts.append("<tr>" + "".join(f"<td><code>{e(c)}</code></td>" for c in cells) + "</tr>")
    parts.append("</table>")
    if len(raw) > _MAX_PHOTOS:
        parts.append(f"<p>… and {len(raw) - _MAX_PHOTOS} more photos, not listed here.</p>")
    return parts
