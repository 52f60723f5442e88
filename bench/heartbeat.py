"""The UI thread's longest stall: a QTimer beating every 10 ms on it; the longest gap between beats."""

from __future__ import annotations


class Heartbeat:
    """Start it on the UI thread, run the work, stop it; `gaps_ms` holds the time between beats."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.interval_ms = interval_ms
        self.gaps_ms: list[int] = []
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = self._clock.elapsed()
        self.gaps_ms.append(now - self._last)
        self._last = now

    def start(self) -> Heartbeat:
        self.gaps_ms.clear()
        self._last = 0
        self._clock.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.stop()

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def longest_ms(self) -> float:
        return float(max(self.gaps_ms, default=0))

    def stalls_over(self, ms: float) -> int:
        return sum(1 for g in self.gaps_ms if g > ms)
