"""The "Add inspection" dialog keeps the photos' paths as the file system gave them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.ui.add_inspection_dialog import AddInspectionDialog
from tests.helpers.pipe_photos import photo_folder


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8 exist on Linux file systems")
def test_a_photo_name_that_is_not_utf8_reaches_the_request_whole(qtbot, tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    first = sorted(folder.iterdir())[0]
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/pipe_\xff\xfe.png"))  # surrogate escapes
    first.rename(odd)
    dialog = AddInspectionDialog([], parent=None)
    qtbot.addWidget(dialog)
    dialog.add_paths([folder])
    dialog.add_paths([folder])  # each photo once
    paths = dialog.request().paths
    assert len(paths) == 2 and odd in paths
    assert all(p.is_file() for p in paths), "every path names the file on disk"
    shown = [dialog.photos.item(n).text() for n in range(dialog.photos.count())]
    assert any("\\xff\\xfe" in text for text in shown), "the list shows the odd bytes readably"


def test_a_folder_names_what_it_holds_that_is_not_read(qtbot, tmp_path: Path) -> None:
    """A phone's HEIC photos beside the JPEGs would vanish from the inspection unseen."""
    folder = photo_folder(tmp_path / "photos", 2, 0.1, size=(48, 64))
    (folder / "IMG_0003.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    dialog = AddInspectionDialog([], parent=None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.left_out_label.isHidden()
    dialog.add_paths([folder])
    assert len(dialog.request().paths) == 2
    assert dialog.left_out_label.isVisible()
    assert dialog.left_out_label.text().startswith("Left out 1 file named like photos: 1 .heic")
