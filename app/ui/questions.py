"""The window's yes/no questions: subfolders of an empty folder, quitting while a batch runs, removals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.text import counted


def names_list(names: Sequence[str], limit: int = 8) -> str:
    """Indented lines of the first `limit` names, and how many more there are."""
    shown = "\n".join(f"  {n}" for n in list(names)[:limit])
    return shown + (f"\n  … and {len(names) - limit} more" if len(names) > limit else "")


def folders_text(paths: Sequence[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def no_photos_text(paths: Sequence[Path], nested: int) -> str:
    """ "No photos found in FOLDER (N in subfolders: include them?)", or without the question."""
    where = folders_text(paths)
    if nested:
        return f"No photos found in {where} ({nested} in subfolders: include them?)"
    return f"No photos found in {where} (nor in its subfolders)."


def declined_text(paths: Sequence[Path], nested: int) -> str:
    return (
        f"No photos found in {folders_text(paths)}; the {nested} in its subfolders were left out "
        "(File ▸ Include subfolders)."
    )


def mnemonics(*labels: str) -> list[str]:
    """Each button label with an Alt key ("&Replace"): its first letter no earlier label took, so a
    question can be answered from the keyboard by name, not only by Tab and Space."""
    taken: set[str] = set()
    out = []
    for label in labels:
        at = next((i for i, ch in enumerate(label) if ch.isalnum() and ch.lower() not in taken), None)
        if at is None or "&" in label:
            out.append(label)
            continue
        taken.add(label[at].lower())
        out.append(f"{label[:at]}&{label[at:]}")
    return out


def _ask(
    parent: QWidget | None, name: str, title: str, text: str, yes: str, no: str, info: str, default_yes: bool
) -> bool:
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(info)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    yes_key, no_key = mnemonics(yes, no)
    box.button(QMessageBox.StandardButton.Yes).setText(yes_key)
    box.button(QMessageBox.StandardButton.No).setText(no_key)
    box.setDefaultButton(QMessageBox.StandardButton.Yes if default_yes else QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def ask_yes(
    parent: QWidget | None, name: str, title: str, text: str, yes: str, no: str, info: str = ""
) -> bool:
    """A question whose default answer is yes."""
    return _ask(parent, name, title, text, yes, no, info, default_yes=True)


def ask_no(
    parent: QWidget | None, name: str, title: str, text: str, yes: str, no: str, info: str = ""
) -> bool:
    """A question whose default answer is no (before something that cannot be undone)."""
    return _ask(parent, name, title, text, yes, no, info, default_yes=False)


def ask_include_subfolders(parent: QWidget | None, paths: Sequence[Path], nested: int) -> bool:
    return _ask(
        parent,
        "subfolders_question",
        "No photos in this folder",
        no_photos_text(paths, nested),
        f"Include subfolders ({counted(nested, 'photo')})",
        "Cancel",
        "File ▸ Include subfolders keeps this for every folder.",
        default_yes=True,
    )


def quit_during_batch_text(done: int, total: int) -> str:
    return f"A batch is running: {done} of {total} photos done. Stop it and quit?"


def ask_quit_during_batch(parent: QWidget | None, done: int, total: int) -> bool:
    return _ask(
        parent,
        "quit_question",
        "Quit Corroscope?",
        quit_during_batch_text(done, total),
        "Stop and quit",
        "Keep running",
        "The rows done so far are lost on quitting unless exported (File ▸ Export batch CSV…).",
        default_yes=False,
    )


def replace_batch_text(done: int, total: int) -> str:
    return f"A batch is running: {done} of {total} photos done. Stop it and start the new one?"


def ask_replace_running_batch(parent: QWidget | None, done: int, total: int) -> bool:
    """Another folder opened while a batch runs: its rows would go as the new batch's table replaces
    them, as on quitting, which asks."""
    return _ask(
        parent,
        "replace_batch_question",
        "Start another batch?",
        replace_batch_text(done, total),
        "Stop and start",
        "Keep running",
        "The rows done so far are lost unless exported first (File ▸ Export batch CSV…).",
        default_yes=False,
    )


QUIT_DURING_ADAPTATION = "A model is being adapted to the reviewed photos. Stop it and quit?"


def ask_quit_during_adaptation(parent: QWidget | None) -> bool:
    return _ask(
        parent,
        "quit_adaptation_question",
        "Quit Corroscope?",
        QUIT_DURING_ADAPTATION,
        "Stop and quit",
        "Keep adapting",
        "Stopping writes no model file; the model in use stays as it is.",
        default_yes=False,
    )
