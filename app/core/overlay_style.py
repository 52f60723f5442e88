"""How the overlay is shown: which classes are drawn and at what opacity, as one value.

The window's overlay settings travel as one `OverlayStyle` to the exports, the PDF reports and the batch,
so every file shows the overlay as the screen does. Frozen, hashable and picklable (batch options carry
it to worker processes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.core.overlay import blend_overlay
from app.core.palette import ClassInfo


@dataclass(frozen=True)
class OverlayStyle:
    """The class ids drawn (None: every class) and each class's opacity, 0..1, as (id, opacity) pairs
    (a class not listed: `app.core.overlay.DEFAULT_OPACITY`)."""

    visible: frozenset[int] | None = None
    opacity: tuple[tuple[int, float], ...] = ()

    @classmethod
    def of(
        cls, visible: Collection[int] | None = None, opacity: Mapping[int, float] | None = None
    ) -> OverlayStyle:
        """The style of a set of visible class ids and a class id -> opacity mapping."""
        pairs = tuple(sorted((int(k), float(v)) for k, v in (opacity or {}).items()))
        return cls(None if visible is None else frozenset(visible), pairs)

    @property
    def opacities(self) -> dict[int, float]:
        """Class id -> opacity, for the classes given one."""
        return dict(self.opacity)

    def shows(self, class_id: int) -> bool:
        return self.visible is None or class_id in self.visible

    def shown(self, classes: Sequence[ClassInfo]) -> list[ClassInfo]:
        """The classes drawn (a report's legend lists those only)."""
        return [c for c in classes if self.shows(c.id)]

    def blend(
        self,
        rgb: np.ndarray,
        labels: np.ndarray,
        classes: Sequence[ClassInfo],
        *,
        bgr: bool = False,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The overlay of `labels` over `rgb` in this style (`app.core.overlay.blend_overlay`; `out`
        may be `rgb` itself)."""
        return blend_overlay(rgb, labels, classes, self.visible, self.opacities, bgr=bgr, out=out)


EVERY_CLASS = OverlayStyle()  # every class drawn at the default opacity
