"""A scale bar for a photo with a scale: a round length (1, 2 or 5 x 10^k mm) near a fifth of its width."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.physical import check_scale

STEPS = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class ScaleBar:
    """A bar of `mm` millimetres, `pixels` photo pixels long, written `label` ("50 mm", "20 cm", "1 m")."""

    mm: float
    pixels: float
    label: str


def length_label(mm: float) -> str:
    """A round length in the unit it reads best in: mm below 10 cm, cm below 1 m, else m."""
    if mm >= 1000.0:
        return f"{mm / 1000.0:g} m"
    if mm >= 100.0:
        return f"{mm / 10.0:g} cm"
    return f"{mm:g} mm"


def scale_bar(mm_per_px: float, width_px: int, fraction: float = 0.2) -> ScaleBar:
    """The largest round length no longer than `fraction` of the photo's width (at least one step)."""
    scale = check_scale(mm_per_px)
    if width_px <= 0:
        raise ValueError(f"the photo's width must be positive, got {width_px}")
    target = max(width_px * fraction * scale, 1e-12)
    decade = 10.0 ** math.floor(math.log10(target))
    mm = max((s * decade for s in STEPS if s * decade <= target * (1 + 1e-9)), default=decade)
    mm = float(f"{mm:.6g}")  # 0.1 * 3 style float noise out of the label
    return ScaleBar(mm, mm / scale, length_label(mm))
