"""A model the app's pipeline runs (`predict`, `input_size`, `classes`, ...) with `predict` changed: the
base of the levers' post-processing (`training.levers`) and of cross-validation's probability keeper
(`training.cv`)."""

from __future__ import annotations

from typing import Any


class Wrapped:
    """Everything of the wrapped model but what a subclass overrides."""

    def __init__(self, model: Any) -> None:
        self._inner = model

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (e.g. a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self._inner, name)
