"""The project's error messages on the window's banner, taken down once they no longer hold: a failed
open's or read's (a job's too, that could not reach the project) when the project is read, any of the
last project's when another one opens (a "Cannot read postgresql://…" stayed over a readable project)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar

    from app.ui.banner_widget import BannerWidget

READ, OTHER = "read", "other"  # a failed open or read of the project; any other (an export)


class ProjectErrors:
    """Shows the project's errors and remembers the last one, to take down only that one (a later
    message from elsewhere on the banner stays)."""

    def __init__(
        self,
        banner: BannerWidget,
        show_message: Callable[[str, str], None],
        status: Callable[[], QStatusBar] | None = None,
    ) -> None:
        """`show_message`: the window's (banner and status bar); `status`: the window's status bar, asked
        when needed (the window sets its own after this is made), whose copy goes with the banner's."""
        self.banner, self._show_message, self.status = banner, show_message, status
        self._last: tuple[str, str] | None = None  # (kind, text) of the last error shown

    def show(self, message: str, kind: str = OTHER) -> None:
        self._show_message(message, "error")
        self._last = (kind, message)

    def job_failed(self, message: str, where: str | None) -> None:
        """A job's failure (Add, Re-run, Find moved photos, an edit, a review). One that says the project
        at `where` (its display) could not be opened or read, e.g. its server was down, is taken down by
        the next successful read as the panel's own is; any other stays until replaced."""
        if where is not None and any(f"Cannot {verb} {where}:" in message for verb in ("open", "read")):
            self.show(message, READ)
        else:
            self._show_message(message, "error")

    def clear(self, *kinds: str) -> None:
        """Take the last error down if it is of `kinds` and still on the banner."""
        if self._last is None or self._last[0] not in kinds:
            return
        banner = self.banner
        if banner.level == "error" and banner.text == self._last[1]:
            banner.hide()
        status = None if self.status is None else self.status()
        if status is not None and status.currentMessage() == self._last[1].splitlines()[0]:
            status.clearMessage()  # else "Cannot read …" stays there over a project read since
        self._last = None
