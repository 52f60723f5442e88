"""Classes, their mask colours, and conversion between RGB masks and class ids."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.meta_json import strict_json
from app.core.text import safe_repr


@dataclass(frozen=True)
class ClassInfo:
    """One segmentation class: its id (output channel), name and mask colour (RGB)."""

    id: int
    name: str
    color: tuple[int, int, int]

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "color": list(self.color)}


CORROSION = ClassInfo(0, "corrosion", (255, 0, 0))
ASSET = ClassInfo(1, "asset", (0, 0, 255))
BACKGROUND = ClassInfo(2, "background", (0, 255, 0))
DEFAULT_CLASSES: tuple[ClassInfo, ...] = (CORROSION, ASSET, BACKGROUND)

# Longest class name a model may declare: names become CSV headers, PDF table cells and console lines;
# a 200 KB name broke the CSV reader's field limit (131,072) and a 4 MB one crashed the PDF.
MAX_CLASS_NAME = 64
# Characters a class name may not hold (controls, formats, separators, surrogates, private, unassigned):
# they would drive a terminal or a spreadsheet, or put a NUL in a CSV header.
_REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})

# A mask pixel farther than this (Euclidean, RGB) from every palette colour is counted as off-palette.
OFF_PALETTE_DISTANCE = 100.0


def classes_to_json(classes: Sequence[ClassInfo]) -> str:
    return json.dumps([c.to_json() for c in classes])


def classes_from_json(text: str) -> tuple[ClassInfo, ...]:
    """Parse the contract's `corroscope.classes`; raises ValueError saying what is wrong."""
    try:
        raw = strict_json(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"classes are not valid JSON ({exc.msg})") from exc
    except ValueError as exc:  # nested too deeply, a NaN: as every metadata value is read
        raise ValueError(f"classes are not usable JSON: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise ValueError("classes must be a non-empty JSON list")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not {"id", "name", "color"} <= item.keys():
            raise ValueError(f"class #{i} must be an object with id, name and color")
        color = item["color"]
        if (
            not isinstance(color, list)
            or len(color) != 3
            or not all(isinstance(v, int) and 0 <= v <= 255 for v in color)
        ):
            raise ValueError(f"class #{i} color must be three integers 0-255")
        if not isinstance(item["id"], int) or not isinstance(item["name"], str) or not item["name"]:
            raise ValueError(f"class #{i} needs an integer id and a non-empty name")
        _check_name(i, item["name"])
        out.append(ClassInfo(item["id"], item["name"], (color[0], color[1], color[2])))
    if sorted(c.id for c in out) != list(range(len(out))):
        raise ValueError("class ids must be 0..N-1, each once")
    twice = sorted(n for n, k in Counter(c.name for c in out).items() if k > 1)
    if twice:  # pixel counts, shares and grades are keyed by name
        raise ValueError(f"class names must differ; {', '.join(map(repr, twice[:5]))} appear more than once")
    black = [c.name for c in out if c.color == (0, 0, 0) and c.name != "background"]
    if black:  # masks read pure black as background (the origin's rule): that class could not be read back
        raise ValueError(
            f"class {black[0]!r} is drawn in black [0, 0, 0], which masks read as background; "
            "give it another colour"
        )
    shared = sorted(c for c, k in Counter(c.color for c in out).items() if k > 1)
    if shared:  # a mask PNG tells its classes apart by colour alone: one colour, two classes, no mask
        names = [c.name for c in out if c.color == shared[0]]
        raise ValueError(
            f"class colours must differ; {', '.join(map(repr, names))} are all drawn in {list(shared[0])}"
        )
    return tuple(sorted(out, key=lambda c: c.id))


def _check_name(index: int, name: str) -> None:
    """A class name short enough to show and free of control characters; ValueError (escaped) if not."""
    if len(name) > MAX_CLASS_NAME:
        raise ValueError(
            f"class #{index} name is {len(name):,} characters long; at most {MAX_CLASS_NAME} are allowed "
            f"({safe_repr(name, 40)})"
        )
    bad = next((ch for ch in name if unicodedata.category(ch) in _REFUSED_IN_NAMES), None)
    if bad is not None:
        raise ValueError(
            f"class #{index} name {safe_repr(name)} holds the control or format character "
            f"U+{ord(bad):04X}; class names are shown in tables, reports and the console"
        )


def class_by_name(classes: Sequence[ClassInfo], name: str) -> ClassInfo | None:
    return next((c for c in classes if c.name == name), None)


def background_class(classes: Sequence[ClassInfo]) -> ClassInfo | None:
    """The class named background, else the one class that is neither corrosion nor asset (a model may
    call it "other" or "bg"); None when that is ambiguous."""
    named = class_by_name(classes, BACKGROUND.name)
    rest = [c for c in classes if c.name not in (CORROSION.name, ASSET.name)]
    return named if named is not None else rest[0] if len(rest) == 1 else None


def decode_mask(
    mask_rgb: np.ndarray,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
    black_as: str | None = "background",
) -> tuple[np.ndarray, int]:
    """RGB mask -> (class ids uint8 HxW, count of off-palette pixels).

    Each pixel goes to the nearest palette colour. Pure black goes to `black_as` (the origin's rule);
    it still counts as off-palette, since it is in no palette colour.
    """
    if mask_rgb.ndim != 3 or mask_rgb.shape[2] != 3:
        raise ValueError(f"mask must be HxWx3 RGB, got shape {mask_rgb.shape}")
    pix = mask_rgb.astype(np.int32)
    palette = np.array([c.color for c in classes], dtype=np.int32)  # C x 3
    # Squared distances computed per class keep memory at one int32 plane per class.
    dist = np.stack([((pix - col) ** 2).sum(axis=2) for col in palette], axis=0)
    ids = dist.argmin(axis=0).astype(np.uint8)
    nearest = dist.min(axis=0)
    off = nearest > OFF_PALETTE_DISTANCE**2
    if black_as is not None:
        target = class_by_name(classes, black_as)
        if target is not None:
            black = (pix == 0).all(axis=2)
            ids[black] = target.id
    return ids, int(off.sum())


def encode_mask(labels: np.ndarray, classes: Sequence[ClassInfo] = DEFAULT_CLASSES) -> np.ndarray:
    """Class ids HxW -> RGB mask HxWx3 uint8 in the palette."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    for c in classes:
        lut[c.id] = c.color
    return lut[labels]
