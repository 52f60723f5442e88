"""`OverlayStyle`: the overlay's visible classes and opacities as one frozen value."""

from __future__ import annotations

import pickle

import numpy as np

from app.core.overlay import blend_overlay
from app.core.overlay_style import EVERY_CLASS, OverlayStyle
from app.core.palette import DEFAULT_CLASSES
from app.core.synthetic import synthetic_pipe


def test_a_style_is_one_value_whatever_the_collections_it_was_made_of() -> None:
    style = OverlayStyle.of([2, 0], {2: 0.3, 0: 0.8})
    assert style == OverlayStyle.of({0, 2}, {0: 0.8, 2: 0.3}) == pickle.loads(pickle.dumps(style))
    assert len({style, OverlayStyle.of((0, 2), {0: 0.8, 2: 0.3})}) == 1  # hashable: options carry it
    assert style.opacities == {0: 0.8, 2: 0.3}
    assert [c.name for c in style.shown(DEFAULT_CLASSES)] == ["corrosion", "background"]
    assert OverlayStyle.of() == EVERY_CLASS and EVERY_CLASS.shown(DEFAULT_CLASSES) == list(DEFAULT_CLASSES)


def test_a_style_blends_as_the_overlay_of_its_classes_and_opacities() -> None:
    rgb, labels = synthetic_pipe(seed=4, size=(80, 60))
    for visible, opacity in ((None, None), ({0, 2}, {0: 0.8, 2: 0.3}), (set(), {1: 1.0})):
        style = OverlayStyle.of(visible, opacity)
        expected = blend_overlay(rgb, labels, DEFAULT_CLASSES, visible, opacity)
        np.testing.assert_array_equal(style.blend(rgb, labels, DEFAULT_CLASSES), expected)
        bgr = style.blend(rgb, labels, DEFAULT_CLASSES, bgr=True)
        np.testing.assert_array_equal(bgr, expected[:, :, ::-1])
