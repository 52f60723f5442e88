"""The review half of the Edit UI: mark reviewed, reviewed masks saved, found and opened, training
export, and the question before unsaved edits go (composed into `EditUi`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from app.core.errors import CorroscopeError
from app.core.reviewed import ReviewState
from app.core.saved_corrections import CorrectionSearch, default_results_folder, found_there
from app.core.text import counted, safe_path
from app.core.training_export import ReviewedPhoto, export_training_data, training_files
from app.ui.edit_controller import EditController
from app.ui.export_dialog import confirm_overwrite
from app.ui.export_folders import (
    drop_if_unused,
    export_folder,
    make_for_dialog,
    photos_folder,
    remember_export_folder,
    typed_path,
)
from app.ui.host import WindowHost
from app.ui.review_dialog import (
    DISCARD,
    SAVE_ALL,
    ReviewDialog,
    ask_discard_edits,
    ask_unsaved_on_quit,
)
from app.ui.saved_masks import corrected_mask_path, is_signed, signature_text

SaveJob = tuple[Path, Callable[[], list[Path]]]  # where a corrected mask goes, and the job writing it
NOTHING_TO_SAVE = (
    "Nothing to save: the mask on screen is the model's. Edit it, or sign it with Edit ▸ Mark reviewed…, "
    "then save."
)


TRAINING_KIND = "training"  # the remembered folder of File ▸ Export reviewed photos as training data


class ReviewUi(QObject):
    """The review actions of a window's `EditUi`; `on_change` refreshes the edit UI's actions."""

    signed_masks_saved = Signal(object)  # [(photo, mask file)] of signed masks just written

    def __init__(self, window: WindowHost, edits: EditController, on_change: Callable[[], None]) -> None:
        super().__init__(edits)
        self.window = window
        self.edits = edits
        self._update = on_change
        self._older_signed: dict[Path, Path | None] = {}  # an edit opened: the older signed mask beside it
        self._draft: tuple[str, str] | None = None  # (name, note) of a sign-off refused: offered again
        self._saves = 0  # mask saves still being written
        self._saves_failed = False
        self._after_saves: list[Callable[[bool], None]] = []
        edits.mask_opened.connect(self._on_mask_opened)
        edits.session_changed.connect(self._drop_stale_notice)
        edits.edited.connect(self._drop_stale_notice)

    def _drop_stale_notice(self, *_args) -> None:
        """The "Nothing to save" notice stops being true at the first edit or signature: it goes."""
        if self.window.banner.text == NOTHING_TO_SAVE:
            self.window.banner.dismiss()

    @property
    def _parent(self) -> QWidget:
        return self.window  # type: ignore[return-value]  # the host is the QMainWindow

    # review and reviewed masks --------------------------------------------------------------------
    def ask_inspector(self, name: str = "", note: str = "") -> ReviewDialog | None:
        result = self.window.controller.result
        dialog = ReviewDialog(result.path.name if result else "this photo", name, self._parent, note)
        return dialog if dialog.exec() else None

    def mark_reviewed(self) -> None:
        """Sign the mask on screen: the inspector's name (asked once), the time and a note. Only the photo
        the dialog named is signed: another photo opened meanwhile (D pressed just before) is not."""
        before = self.window.controller.result
        name, note = self._draft or (self.window.settings.inspector_name, "")
        dialog = self.ask_inspector(name, note) if self._draft else self.ask_inspector(name)
        if dialog is None:
            return
        now = self.window.controller.result
        if before is None or now is None or now.path != before.path:
            self.window.settings.inspector_name = dialog.name  # checked by the dialog: kept as before
            name = "the photo" if before is None else safe_path(before.path.name)
            self.window.show_message(
                f"Nothing was signed: {name} is no longer on screen (another photo opened while the "
                "dialog was open). Open it again and mark it reviewed.",
                "warning",
            )
            return
        try:
            session = self.edits.mark_reviewed(dialog.name, dialog.note)
        except ValueError as exc:  # a name or note signing refuses: said, and what was typed kept
            self._draft = (dialog.name, dialog.note)
            self.window.show_message(
                f"Nothing was signed: {exc}. Edit ▸ Mark reviewed… opens with what you typed.", "error"
            )
            return
        self._draft = None
        self.window.settings.inspector_name = dialog.name  # only a name that signed is remembered
        if session is not None:
            self.window.show_status(f"Marked reviewed by {dialog.name}; File ▸ Save corrected mask keeps it")
        self._update()

    def change_inspector(self) -> None:
        dialog = self.ask_inspector(self.window.settings.inspector_name)
        if dialog is not None:
            self.window.settings.inspector_name = dialog.name

    def default_mask_path(self) -> Path | None:
        """Where Ctrl+S proposes to save: over the correction it was opened from or saved to when the app
        finds it there again (beside the photo or in its results folder), else in the photo's results
        folder (`<photo folder> results`, never the app's install); `.reviewed.png` only when signed."""
        result = self.window.controller.result
        if result is None:
            return None
        session = self.edits.session
        review = session.review if session is not None else None
        return corrected_mask_path(_save_folder(result.path, session), result.path.stem, review)

    def save_reviewed_mask(self, path: Path | None = None) -> None:
        """Ctrl+S: write the corrected mask on screen (asking before replacing a file); the dialog opens
        in the photo's results folder, made when needed."""
        if self.window.controller.result is None:
            return
        session = self.edits.session
        if session is None or not (session.edited or session.review.is_reviewed):
            self.window.show_message(NOTHING_TO_SAVE, "warning")
            return
        if path is None:
            start = self.default_mask_path()
            assert start is not None
            made = make_for_dialog(start.parent)
            signed = is_signed(session.review)
            title = "Save reviewed mask" if signed else "Save edited mask (not reviewed)"
            chosen, _ = QFileDialog.getSaveFileName(
                self._parent, title, str(start), "Masks (*.png)", "", QFileDialog.Option.DontConfirmOverwrite
            )
            drop_if_unused(start.parent, made, Path(chosen).parent if chosen else None)
            if not chosen:
                return
            path = typed_path(chosen, ".png")  # else missed by the lookup of `<stem>_mask.edited.png`
        exists = path.exists()
        if exists and not confirm_overwrite(self._parent, [path]):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        signed, photo = is_signed(session.review), session.path
        job = self.edits.save_job(path, overwrite=exists)
        if job is not None:
            text = saved_text(photo, path, signed)
            then = [lambda _paths: self.window.show_message(text, "info")]
            if signed:
                reached = self.signed_masks_saved
                then.append(lambda paths: reached.emit([(photo, Path(paths[0]))]))
            self._run_save(then, job)
        self._update()

    @property
    def saving(self) -> bool:
        """A corrected mask is still being written (the session counts as saved meanwhile)."""
        return self._saves > 0

    def when_saved(self, callback: Callable[[bool], None]) -> None:
        """`callback(all_written)` once no save is being written (a quit waits for them)."""
        self._after_saves.append(callback)

    def _run_save(self, then: list[Callable[[list], None]], job, *args) -> None:
        """A save in a worker, counted until it has written or failed (in `then` and `failed`: a callback
        connected after the worker starts could miss a quick job's end)."""
        self._saves += 1
        then = [*then, lambda _paths: self._save_ended()]
        self.window.controller.run_export(job, *args, then=then, failed=self._save_failed)

    def _save_ended(self) -> None:
        self._saves -= 1
        if self._saves > 0:
            return
        callbacks, self._after_saves = self._after_saves, []
        failed, self._saves_failed = self._saves_failed, False
        for callback in callbacks:
            callback(not failed)

    def _save_failed(self, reason: str) -> None:
        """A save (Ctrl+S, Save all) that could not write: said as a save, with the way out; the panel
        shows the edits as unsaved again."""
        self.window.show_message(
            f"Save failed: {reason} (choose another folder in File ▸ Save corrected mask…; the edits are "
            "kept and still count as unsaved)",
            "error",
        )
        self._saves_failed = True
        self._update()  # the panel: "(not saved yet)" again
        self._save_ended()

    def open_reviewed_mask_dialog(self) -> None:
        start = self.default_mask_path()
        chosen, _ = QFileDialog.getOpenFileName(
            self._parent, "Open corrected mask", str(start.parent if start else ""), "Masks (*.png)"
        )
        if chosen:
            self._replace_with_mask(Path(chosen))

    def _replace_with_mask(self, path: Path) -> None:
        session = self.edits.session
        if session is not None:
            if session.unsaved and not ask_discard_edits(self._parent, [session.path.name], "Open the mask"):
                return
            self.edits.discard(session.path)
        self.edits.open_reviewed_mask(path)

    def look_for_saved_mask(self, item) -> None:
        """A photo without edits in this run opens with its newest saved correction (signed or not),
        beside it or in its results folder."""
        path = item.result.path
        if path in self.edits.sessions:
            return
        search = CorrectionSearch()
        found = search.find(path)
        if found is not None:
            self._older_signed[found] = search.older_signed(path, found)
            self.edits.open_reviewed_mask(found)

    def _on_mask_opened(self, path: Path, review: ReviewState) -> None:
        """Say which saved correction the figures now come from, with its full path, and where the older
        signed mask is when a newer unsigned edit was opened instead."""
        if is_signed(review):
            text = f"Opened the reviewed mask {path} (reviewed by {signature_text(review)})"
        else:
            text = f"Opened the edited mask {path}: edited, not reviewed (Edit ▸ Mark reviewed… signs it)"
        older = self._older_signed.pop(path, None)
        if older is not None:
            text += (
                f". It was saved after the signed mask {older}, whose review no longer applies to it "
                "(File ▸ Open corrected mask… opens that one)"
            )
            self.window.show_message(text, "warning")
            return
        self.window.show_message(text, "info")

    def revert(self) -> None:
        session = self.edits.session
        if session is not None and ask_discard_edits(self._parent, [session.path.name], "Revert"):
            saved = session.mask_path
            self.edits.discard(session.path)
            if saved is not None and saved.exists():  # a reopened photo finds it again: say so now
                self.window.show_message(
                    f"Reverted to the model's mask on screen. The saved correction {safe_path(saved)} stays "
                    "on disk and is applied again when the photo is opened; delete or move it to drop it.",
                    "info",
                )

    def export_training(self) -> None:
        """File ▸ Export reviewed photos as training data: every photo marked reviewed in this run."""
        items = [
            ReviewedPhoto(s.path, s.editor.labels.copy(), s.review)
            for s in self.edits.sessions.values()
            if s.review.is_reviewed
        ]
        result = self.window.controller.result
        if not items or result is None:
            self.window.show_message("No photo is marked reviewed yet (Edit ▸ Mark reviewed…)", "warning")
            return
        source = photos_folder([it.photo for it in items])
        start = export_folder(self.window.settings, TRAINING_KIND, source)
        made = make_for_dialog(start)
        folder = QFileDialog.getExistingDirectory(
            self._parent, f"Export {counted(len(items), 'reviewed photo')} as training data", str(start)
        )
        drop_if_unused(start, made, Path(folder) if folder else None)
        if folder:
            remember_export_folder(self.window.settings, TRAINING_KIND, source, Path(folder))
            classes = result.classes
            job = lambda: training_files(export_training_data(items, Path(folder), classes))  # noqa: E731
            self.window.controller.run_export(job)

    def confirm_close(self) -> bool:
        """True when nothing unsaved would be lost: none, all saved (Save all), or the user lets them go."""
        unsaved = self.edits.unsaved_sessions()
        if not unsaved:
            return True
        answer = ask_unsaved_on_quit(self._parent, [s.path.name for s in unsaved])
        if answer == SAVE_ALL:
            return self.save_all(unsaved)
        return answer == DISCARD

    def mask_targets(self, sessions: list) -> list[tuple]:
        """(session, where its mask goes): its own file when the app finds it there again and it is of
        that kind, else the default name in its photo's results folder."""
        return [(s, corrected_mask_path(_save_folder(s.path, s), s.path.stem, s.review)) for s in sessions]

    def save_jobs(self, sessions: list) -> list[SaveJob] | None:
        """(target, job writing its session's mask there) where `mask_targets` says; None when the user
        keeps a file that is not the session's own."""
        targets = self.mask_targets(sessions)
        others = [t for s, t in targets if t.exists() and t != s.mask_path]
        if others and not confirm_overwrite(self._parent, others):
            return None
        jobs = []
        for session, target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            job = self.edits.save_job(target, overwrite=target.exists(), session=session)
            if job is not None:
                jobs.append((target, job))
        return jobs

    def save_all_corrected(self) -> None:
        """File ▸ Save all corrected masks: every edited or signed photo not saved, each to its results
        folder, in a worker (no file dialog per photo)."""
        unsaved = self.edits.unsaved_sessions()
        if not unsaved:
            self.window.show_message("Every corrected mask is saved.", "info")
            return
        jobs = self.save_jobs(unsaved)
        if jobs is None:
            return
        signed = _signed_masks(unsaved)
        then = [lambda _paths: self.signed_masks_saved.emit(signed)] if signed else []
        then.append(
            lambda paths: self.window.show_message(
                f"Saved {counted(len(paths), 'corrected mask')}: " + ", ".join(str(p) for p in paths), "info"
            )
        )
        self._run_save(then, run_jobs, jobs)
        self._update()

    def save_all(self, sessions: list) -> bool:
        """Write each session's corrected mask (its own file, else its results folder), now: the app is
        about to quit. Files that are not the session's own are replaced only if the user agrees."""
        jobs = self.save_jobs(sessions)
        if jobs is None:
            return False
        try:
            written = run_jobs(jobs)
        except CorroscopeError as exc:  # "Could not save <file>: <why>"
            self.window.show_message(f"{exc}. Nothing was discarded.", "error")
            return False
        saved = counted(len(written), "corrected mask")
        self.window.show_status(f"Saved {saved}: " + ", ".join(map(str, written)))
        # the project stores the signed ones on a worker, which closing the window waits for
        if signed := _signed_masks(sessions):
            self.signed_masks_saved.emit(signed)
        return True


def _save_folder(photo: Path, session) -> Path:
    """The folder of the session's own file when the search finds it there, else `<photo folder> results`:
    a mask saved elsewhere (an export folder, a folder picked in Ctrl+S's dialog) is never saved to again."""
    own = session.mask_path if session is not None else None
    if own is not None and found_there(photo, own):
        return own.parent
    return default_results_folder(Path(os.path.abspath(photo)).parent)


def saved_text(photo: Path, path: Path, signed: bool) -> str:
    """The banner after Ctrl+S: the full path, and that the app will not look there by itself."""
    kind = "reviewed" if signed else "edited (not reviewed)"
    text = f"Saved the {kind} mask: {path}"
    if not found_there(photo, path):
        where = default_results_folder(Path(os.path.abspath(photo)).parent)
        text += (
            f". The app will not find it there by itself (it looks beside the photo and in {where}); "
            "File ▸ Open corrected mask… opens it"
        )
    return text


def _signed_masks(sessions: list) -> list[tuple[Path, Path]]:
    """(photo, the mask file it was saved to) of the signed ones among sessions just saved."""
    return [(s.path, s.mask_path) for s in sessions if is_signed(s.review) and s.mask_path is not None]


def run_jobs(jobs: list[SaveJob]) -> list[Path]:
    """Run each save job in turn (a worker's job, or now when the app quits); the paths written. A job that
    fails stops the rest: `CorroscopeError` naming its file."""
    written: list[Path] = []
    for target, job in jobs:
        try:
            written += job()
        except Exception as exc:
            raise CorroscopeError(f"Could not save {target}: {exc}") from exc
    return written
