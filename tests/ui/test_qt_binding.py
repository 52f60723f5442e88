"""The Qt binding itself: emitting a Python-declared signal must not leak or drop references.

PySide6 6.12.0 returns a borrowed `True` from `SignalInstance.emit()`; on Python < 3.12 each emit then
drops a reference to `True` and the interpreter aborts after a few hundred emits (pyproject excludes it).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(int)


def test_emit_keeps_reference_counts(qapp):
    emitter = _Emitter()
    got = []
    emitter.fired.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(50):
        emitter.fired.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert got == list(range(50))
    assert after == before, "this PySide6 build corrupts reference counts on emit (6.12.0 does)"
