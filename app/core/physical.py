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
# The finest scale taken: 0.1 µm a pixel, half the finest detail visible light can resolve (about 0.2 µm),
# so no photo's true scale is finer. 1e-300 mm/px squared to 0 and printed "Corrosion area 0 mm²" for a
# photo corroded by half.
MIN_MM_PER_PX = 1e-4
SCALE_RANGE_TEXT = f"from {MIN_MM_PER_PX:g} to {MAX_MM_PER_PX:,.0f}"


def check_scale(mm_per_px: float) -> float:
    """`mm_per_px` as a float if it is a usable scale (finite, `MIN_MM_PER_PX` to `MAX_MM_PER_PX`);
    ScaleError otherwise."""
    value = float(mm_per_px)
    if not (math.isfinite(value) and MIN_MM_PER_PX <= value <= MAX_MM_PER_PX):
        raise ScaleError(
            f"the scale must be a number of mm per pixel {SCALE_RANGE_TEXT} ({value:g} was given)"
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


def rounded_area(mm2: float) -> float:
    """An area in mm² as a record keeps it: to 3 decimals, or to 3 significant digits where 3 decimals
    would write a non-zero area as 0 (0 says there is none; a photo without a scale has no area at all)."""
    value = round(float(mm2), 3)
    return value if value or not mm2 else float(f"{mm2:.3g}")


def area_cell(mm2: float) -> str:
    """An area in mm² as a CSV cell: 4 decimals, or 3 significant digits ("4.2e-05") where 4 decimals
    would read 0."""
    text = f"{mm2:.4f}"
    return text if float(text) or not mm2 else f"{mm2:.3g}"


def format_area(mm2: float) -> str:
    """An area in the unit a repair quantity is read in: mm² below 1 cm², m² from 1 m², else cm²."""
    if mm2 < 100.0:
        return f"{mm2:.3g} mm²"
    if mm2 < 1e6:
        cm2 = mm2 / 100.0
        return f"{cm2:.3g} cm²" if cm2 < 1000 else f"{cm2:.0f} cm²"
    return f"{mm2 / 1e6:.3g} m²"
