"""What is said about a photo as it is read: Pillow's warnings (damaged EXIF data) as one log line in the
tool's words, once per photo, and a photo of more pages than the one analysed."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from app.core.text import safe_path, safe_text

log = logging.getLogger("app.core.photos")  # the name users have seen these lines under


@contextlib.contextmanager
def pillow_notes(path: Path) -> Iterator[None]:
    """Pillow's warnings about a photo (damaged EXIF data, say) as one line in the tool's words in the
    log, once per photo, instead of Pillow's raw `UserWarning` lines on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel limit decides
        yield
    if not caught or str(path) in NOTED:
        return
    if len(NOTED) > 10_000:
        NOTED.clear()
    NOTED.add(str(path))
    first = str(caught[0].message)
    if "EXIF" in first or "Tag" in first or "tag" in first:
        log.warning(
            "%s: its EXIF data (camera metadata) is damaged; the photo is read without it", safe_path(path)
        )
    else:
        log.warning("%s: read with a warning from the image library (%s)", safe_path(path), safe_text(first))


NOTED: set[str] = set()  # photos whose warning was logged in this process


def first_page_note(shown: str) -> str:
    """What is said of a photo with more pages (`shown`: its name or path, escaped)."""
    return f"{shown} holds more than one page (or frame): only the first is shown and analysed"


def more_pages(img: Image.Image) -> bool:
    """A multi-page TIFF or an animated PNG/WebP (`is_animated` reads the second page's header only)."""
    with contextlib.suppress(Exception):
        return bool(getattr(img, "is_animated", False))
    return False
