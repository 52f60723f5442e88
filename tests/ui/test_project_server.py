"""A project on a PostgreSQL server that stalls never freezes the window (pytest-qt, real widgets, the
real server of tests/project/conftest.py behind `FreezableProxy`): while the proxy holds every query,
the UI thread keeps ticking, the panel says it is loading and picked photos still show their figures;
when the proxy then drops the connections, the banner says why."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from sqlalchemy.engine import make_url

from app.core.project import Project, add_inspection_photos
from app.ui.project_panel_widget import LOADING, ROLE
from tests.helpers.pipe_photos import photo_folder
from tests.helpers.tcp_proxy import FreezableProxy
from tests.project.conftest import pg_database  # noqa: F401  (the fixture)
from tests.ui.conftest import TIMEOUT_MS

MAX_GAP_S = 0.3  # the UI thread's longest pause allowed while the server stalls
STALL_S = 1.5  # how long each test lets the server stall before the proxy drops the connections
SAFETY_S = 8.0  # the proxy drops them by itself then: a window that blocks on the query wakes up (and fails)


class Ticks:
    """A QTimer ticking every 20 ms on the UI thread; `max_gap` is the longest time between ticks."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.max_gap = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(20)

    def _tick(self) -> None:
        now = time.monotonic()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        self._tick()  # a UI thread still blocked shows as one long gap up to now
        return self.max_gap


@pytest.fixture
def proxy(pg_database: str):  # noqa: F811
    url = make_url(pg_database)
    with FreezableProxy((url.host or "127.0.0.1", url.port or 5432)) as p:
        safety = threading.Timer(SAFETY_S, p.close)  # the old, blocking window would otherwise hang here
        safety.start()
        yield p
        safety.cancel()


@pytest.fixture
def server_window(qtbot, window, pg_database: str, proxy: FreezableProxy, tmp_path: Path):  # noqa: F811
    """The window with a project of two inspections on the server, opened through the proxy."""
    with Project.create(pg_database) as project:
        for n, date in enumerate((dt.date(2022, 5, 1), dt.date(2024, 5, 1))):
            folder = photo_folder(tmp_path / f"insp{n}", 2, 0.05 + 0.15 * n, seed=n, size=(48, 64))
            add_inspection_photos(project, window.controller.model, "P-101-A", date, sorted(folder.iterdir()))
    proxied = make_url(pg_database).set(host="127.0.0.1", port=proxy.port)
    window.projects.open(proxied.render_as_string(hide_password=False))
    panel = window.projects.panel
    qtbot.waitUntil(lambda: panel.view is not None and not panel.loading, timeout=TIMEOUT_MS)
    return window


def _photo_item(panel, inspection: int = 0, photo: int = 1):
    return panel.tree.topLevelItem(0).child(inspection).child(photo)


def test_a_stalled_server_never_freezes_the_window_and_its_end_is_reported(
    qtbot, server_window, proxy: FreezableProxy
) -> None:
    win = server_window
    panel = win.projects.panel
    opened: list = []
    win.projects.dialog_opened.connect(opened.append)
    ticks = Ticks()
    proxy.freeze()
    try:
        panel.refresh()  # e.g. after an inspection was added
        qtbot.waitUntil(lambda: panel.status.text() == LOADING, timeout=2000)
        panel.tree.setCurrentItem(_photo_item(panel))  # picked while the server stalls: no query
        assert "Corroded share" in panel.figures.text()
        win.projects.show_trend("P-101-A")  # waits for the project, which the server holds
        with qtbot.waitSignal(win.controller.photo_analyzed, timeout=4000):  # still opens photos
            panel.tree.setCurrentItem(_photo_item(panel, 1, 0))
        assert "Corroded share" in panel.figures.text()
        qtbot.wait(int(STALL_S * 1000))
        assert panel.loading and panel.status.text() == LOADING and not opened
    finally:
        proxy.close()  # the server goes away: every query ends in an error
    qtbot.waitUntil(lambda: win.banner.level == "error" and bool(win.banner.text), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not panel.loading, timeout=TIMEOUT_MS)  # the trend's read, after it, too
    gap = ticks.stop()
    assert gap < MAX_GAP_S, f"the UI thread stood still {gap:.2f} s"
    assert "Cannot read" in win.banner.text and "127.0.0.1" in win.banner.text, win.banner.text
    assert "refused" in win.banner.text.lower() or "closed" in win.banner.text.lower(), win.banner.text
    assert panel.status.text().startswith("Could not read the project:")
    assert not opened, "no trend of a project that could not be read"
    assert panel.tree.topLevelItemCount() == 1  # what was read before stays on screen


def test_a_read_of_a_project_replaced_meanwhile_ends_and_says_nothing(
    qtbot, server_window, proxy: FreezableProxy, tmp_path: Path
) -> None:
    """Another project opened while the server holds a read of this one: the read's connection is
    ended (its thread is free again) and its outcome is dropped; the tree shows the new project."""
    win = server_window
    panel = win.projects.panel
    other = tmp_path / "other.corroscope"
    with Project.create(other) as project:
        folder = photo_folder(tmp_path / "v7", 1, 0.2, seed=5, size=(48, 64))
        add_inspection_photos(
            project, win.controller.model, "V-7", dt.date(2025, 1, 1), sorted(folder.iterdir())
        )
    ticks = Ticks()
    proxy.freeze()
    try:
        stalled = panel.refresh()
        assert stalled is not None
        assert win.projects.open(other)  # a file project, opened while the server's read hangs
        qtbot.waitUntil(lambda: not panel.loading and panel.tree.topLevelItemCount() == 1, timeout=TIMEOUT_MS)
        assert panel.tree.topLevelItem(0).text(0) == "V-7"
        qtbot.waitUntil(lambda: panel.reads.pool.active == 0, timeout=int(SAFETY_S * 1000) - 2000)
    finally:
        proxy.thaw()
    qtbot.wait(100)  # the old read's failure, queued, is delivered (and must be dropped)
    assert ticks.stop() < MAX_GAP_S
    assert [panel.tree.topLevelItem(n).text(0) for n in range(panel.tree.topLevelItemCount())] == ["V-7"]
    assert panel.view is not None and panel.view.project is win.projects.project
    assert win.banner.level != "error" or not win.banner.text


def test_a_file_project_takes_the_same_path(qtbot, window, tmp_path: Path) -> None:
    """SQLite reads run on the worker too; the panel fills and a picked photo shows its figures."""
    target = tmp_path / "site.corroscope"
    with Project.create(target) as project:
        folder = photo_folder(tmp_path / "insp", 2, 0.1, seed=1, size=(48, 64))
        add_inspection_photos(
            project, window.controller.model, "P-9", dt.date(2024, 1, 1), sorted(folder.iterdir())
        )
    panel = window.projects.panel
    with qtbot.waitSignal(window.projects.project_changed, timeout=TIMEOUT_MS):
        window.projects.open(target)  # opened on a worker, as a server's project is
    assert panel.loading and panel.status.text() == LOADING
    with qtbot.waitSignal(panel.loaded, timeout=TIMEOUT_MS):
        pass
    # the tree fills as the view arrives; the read's end (which clears the status) may come a moment later
    qtbot.waitUntil(lambda: not panel.loading, timeout=TIMEOUT_MS)
    assert panel.status.text() == "" and panel.tree.topLevelItem(0).text(0) == "P-9"
    item = panel.tree.topLevelItem(0).child(0).child(0)
    assert item.data(0, ROLE)[0] == "photo"
    panel.tree.setCurrentItem(item)
    assert "Corroded share" in panel.figures.text()


def test_closing_the_window_while_the_server_stalls_frees_its_threads(
    qtbot, server_window, proxy: FreezableProxy
) -> None:
    """Qt waits for a window's threads when it deletes the window: a read held by a stalled server
    would hold the app's exit; closing ends the read's connection instead."""
    win = server_window
    reads = win.projects.panel.reads
    proxy.freeze()
    win.projects.panel.refresh()
    qtbot.waitUntil(lambda: reads.pool.active == 1, timeout=2000)
    qtbot.wait(300)
    assert reads.pool.active == 1, "the stalled server holds the read"
    start = time.monotonic()
    win.close()
    qtbot.waitUntil(lambda: reads.pool.active == 0, timeout=int(SAFETY_S * 1000) - 2000)
    assert time.monotonic() - start < 3
    qtbot.wait(100)  # the read's failure, queued, is dropped: no message for a window that closed
    assert not win.banner.text


def test_a_server_that_never_answers_is_named_and_the_user_can_stop_waiting(
    qtbot, server_window, proxy: FreezableProxy
) -> None:
    """The proxy keeps the connection open and forwards nothing: no error ever comes. After the panel's
    patience the status names the server and a Stop waiting button closes the project, freeing its
    thread at once and saying how to come back."""
    win = server_window
    panel = win.projects.panel
    reads = panel.reads
    panel.slow_timer.setInterval(1000)
    proxy.freeze()
    try:
        panel.refresh()
        qtbot.waitUntil(lambda: panel.status.text() == LOADING, timeout=2000)
        assert not panel.stop_button.isVisible()
        qtbot.waitUntil(lambda: panel.stop_button.isVisible(), timeout=3000)
        assert panel.status.text().startswith("No answer from") and "127.0.0.1" in panel.status.text()
        assert "1 s" in panel.status.text() and reads.pool.active == 1
        start = time.monotonic()
        panel.stop_button.click()
        qtbot.waitUntil(lambda: reads.pool.active == 0, timeout=int(SAFETY_S * 1000) - 3000)
        assert time.monotonic() - start < 3, "the held thread was freed by ending its connection"
    finally:
        proxy.thaw()
    assert win.projects.project is None and panel.tree.topLevelItemCount() == 0
    assert not panel.stop_button.isVisible() and not panel.status.text()
    assert win.banner.level == "warning" and "Stopped waiting for" in win.banner.text
    assert "Open project on a server" in win.banner.text
    qtbot.wait(100)  # the aborted read's failure, queued, is dropped: the warning stays
    assert win.banner.level == "warning"


def test_a_read_that_ends_in_time_never_offers_to_stop(qtbot, server_window) -> None:
    panel = server_window.projects.panel
    panel.slow_timer.setInterval(1000)
    panel.refresh()
    qtbot.waitUntil(lambda: not panel.loading, timeout=TIMEOUT_MS)
    qtbot.wait(1300)
    assert not panel.stop_button.isVisible() and not panel.status.text()


def test_the_server_opened_last_is_offered_again_without_its_password(
    qtbot,
    window,
    pg_database: str,  # noqa: F811
    monkeypatch,
) -> None:
    from app.ui import project_jobs

    with Project.create(pg_database):
        pass
    typed = make_url(pg_database).set(password="s3cret-pw").render_as_string(hide_password=False)
    offered: list[str] = []

    def dialog(_parent, last: str = "") -> str:
        offered.append(last)
        return typed if len(offered) == 1 else ""  # the second time: cancelled

    monkeypatch.setattr(project_jobs, "ask_server_url", dialog)
    window.projects.open_project_server_dialog()
    qtbot.waitUntil(lambda: window.projects.project is not None, timeout=TIMEOUT_MS)
    stored = window.settings.last_server_url
    assert "s3cret-pw" not in stored and stored.startswith("postgresql://")
    given = make_url(pg_database)
    assert (make_url(stored).password, make_url(stored).host, make_url(stored).database) == (
        None,
        given.host,
        given.database,
    )
    assert window.projects.open_project_server_dialog() is None  # offered the last server; cancelled
    assert offered == ["", stored]


def test_a_project_file_opens_off_the_ui_thread_and_the_last_open_asked_wins(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    """A file on a share that hangs, or a large project's schema upgrade, must not freeze the window;
    two opens in flight: the one asked last is shown, whichever finishes first."""
    from app.ui import project_jobs

    made = []
    for name in ("a", "b"):
        with Project.create(tmp_path / f"{name}.corroscope") as project:
            made.append(project.location.file)
    threads: list[bool] = []
    real_open = project_jobs.Project.open

    def slow_open(target, *args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        if str(target).endswith("a.corroscope"):
            time.sleep(0.5)  # the first asked finishes last
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(project_jobs.Project, "open", slow_open)
    window.projects.open(made[0])
    window.projects.open(made[1])
    assert window.busy_label.text() == "Opening the project…"
    qtbot.waitUntil(lambda: len(threads) == 2 and window.controller.pool.active == 0, timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert threads == [False, False]
    assert window.projects.project is not None and window.projects.project.location.file == made[1]
    assert window.busy_label.text() == ""
