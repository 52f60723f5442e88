"""An adapted model's provenance (`corroscope.adaptation`, written by `app.core.adapt`) read as untrusted
text: the parsed record, and the one line a report's Model section gives it."""

from __future__ import annotations

from app.core.adapt_record import KEY_ADAPTATION, read_record
from app.core.text import counted, safe_text

_NAME_SHOWN = 120  # characters of the base model's file name: the photo report stays one page


def adapted_text(meta: dict[str, str]) -> str | None:
    """ "site-adapted model, adapted on 5 reviewed photos from base.onnx" (the base file's name escaped);
    None for a model that is not adapted."""
    if KEY_ADAPTATION not in meta:
        return None
    data = read_record(meta)
    if data is None:
        return "site-adapted model (its record of how is not readable)"
    photos = data.get("photos")
    base = data.get("base_model")
    name = base.get("file") if isinstance(base, dict) else None
    on = ""
    if isinstance(photos, list) and photos:
        signed = sum(isinstance(p, dict) and bool(p.get("reviewed_by")) for p in photos)
        # "reviewed" only for signed masks (docs/design.md section 10)
        what = (
            counted(len(photos), "reviewed photo")
            if signed == len(photos)
            else f"{counted(len(photos), 'photo')} with corrected masks ({signed} of them signed)"
        )
        on = f", adapted on {what}"
    source = f" from {safe_text(name, _NAME_SHOWN)}" if isinstance(name, str) and name else ""
    return f"site-adapted model{on}{source}"
