"""Physical areas from a photo's scale (mm per pixel); without a scale nothing claims physical units."""

from __future__ import annotations

import math
from collections.abc import Mapping

from app.core.errors import CorroscopeError

OBLIQUE_NOTE = (
    "Areas assume the photo looks square-on at a flat surface at the scale's distance; on an oblique photo "
    "or around a curved pipe they are approximate."
)


class ScaleError(CorroscopeError):
    """A scale (mm per pixel) that cannot be used."""


# The coarsest scale taken: 10 m a pixel. Areas are squares of the scale; 1e200 overflowed a float
# ("OverflowError: Numerical result out of range") on every photo.
MAX_MM_PER_PX = 10_000.0


def check_scale(mm_per_px: float) -> float:
    """`mm_per_px` as a float if it is a usable scale (finite, > 0, at most `MAX_MM_PER_PX`); ScaleError
    otherwise."""
    value = float(mm_per_px)
    if not math.isfinite(value) or value <= 0 or value > MAX_MM_PER_PX:
        raise ScaleError(
            f"the scale must be a positive number of mm per pixel, at most {MAX_MM_PER_PX:,.0f} "
            f"({value:g} was given)"
        )
    return value


def scale_from_line(length_px: float, length_mm: float) -> float:
    """mm per pixel from a line drawn over a known length (a ruler, the pipe's outer diameter)."""
    if not length_px > 0:
        raise ScaleError("draw a line longer than zero pixels over the known length")
    if not (math.isfinite(length_mm) and length_mm > 0):
        raise ScaleError(f"the known length must be a positive number of mm ({length_mm:g} was given)")
    return check_scale(length_mm / length_px)


def area_mm2(pixels: float, mm_per_px: float) -> float:
    """The area of `pixels` pixels in mm² (each pixel is mm_per_px x mm_per_px)."""
    return float(pixels) * check_scale(mm_per_px) ** 2


def class_areas_mm2(pixels: Mapping[str, int], mm_per_px: float | None) -> dict[str, float] | None:
    """Each class's area in mm² from its pixel count; None without a scale."""
    if mm_per_px is None:
        return None
    return {name: area_mm2(n, mm_per_px) for name, n in pixels.items()}


def format_area(mm2: float) -> str:
    """An area in the unit a repair quantity is read in: mm² below 1 cm², m² from 1 m², else cm²."""
    if mm2 < 100.0:
        return f"{mm2:.3g} mm²"
    if mm2 < 1e6:
        cm2 = mm2 / 100.0
        return f"{cm2:.3g} cm²" if cm2 < 1000 else f"{cm2:.0f} cm²"
    return f"{mm2 / 1e6:.3g} m²"
