"""Where a photo's figures come from: the model's mask, an edit nobody signed yet, or a mask a named
person reviewed (signed, with the time). Every record, table and page names one of these three."""

from __future__ import annotations

MODEL = "model"
EDITED = "edited"  # changed by hand (or a mask from elsewhere) and not signed: still needs review
REVIEWED = "reviewed"  # signed by a reviewer, with the time
SOURCES = (MODEL, EDITED, REVIEWED)

EDITED_REASON = "edited, not marked reviewed yet"
