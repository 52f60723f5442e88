"""What adaptation accepts as its input and output: never a bundled model's file or folder, one photo per
content, masks in the model's colour convention, and photos an earlier adaptation used known again."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.core import adapt_checks, contract
from app.core.adapt import KEY_ADAPTATION, AdaptRefused, AdaptSettings, adapt_model, reviewed_pairs
from app.core.adapt_masks import MaskAgreement, agreement, check_conventions, confusion
from app.core.adapt_record import earlier_steps
from app.core.files import sha256_file
from app.core.model import SegmentationModel
from app.core.palette import DEFAULT_CLASSES
from app.core.reviewed import read_reviewed_mask, write_reviewed_mask
from tests.core.test_adapt import ASSET, BACKGROUND, CORROSION, _site, site_model

FEW = AdaptSettings(min_photos=3)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return site_model(tmp_path / "base.onnx")


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundled models folder holding a shipped model (not the one adapted)."""
    folder = tmp_path / "app" / "models"
    folder.mkdir(parents=True)
    site_model(folder / "shipped.int8.onnx")
    monkeypatch.setattr(adapt_checks, "models_dir", lambda: folder)
    return folder / "shipped.int8.onnx"


def test_the_adapted_model_is_never_written_over_or_beside_a_bundled_model(
    tmp_path: Path, base: Path, bundled: Path
) -> None:
    """The window wrote over the shipped int8 file (a site model loaded as the base), and "Return to the
    shipped model" then loaded the adapted one: refused whatever the base, through links too."""
    before = bundled.read_bytes()
    link = tmp_path / "link.onnx"
    link.symlink_to(bundled)
    hard = tmp_path / "hard.onnx"
    os.link(bundled, hard)
    (bundled.parent / "sub").mkdir()
    linked_folder = tmp_path / "models-link"
    linked_folder.symlink_to(bundled.parent)
    for out in (
        bundled,
        link,
        hard,
        bundled.parent / "site-model.onnx",
        bundled.parent / "sub" / "site-model.onnx",
        linked_folder / "site-model.onnx",
    ):
        with pytest.raises(AdaptRefused, match="bundled model"):
            adapt_model(base, [], out, overwrite=True)
    assert bundled.read_bytes() == before
    assert sorted(p.name for p in bundled.parent.iterdir()) == ["shipped.int8.onnx", "sub"]


def test_the_cli_refuses_a_bundled_models_file_at_once(tmp_path: Path, base: Path, bundled: Path, capsys):
    from app.cli import EXIT_USAGE, main

    photos, masks = _site(tmp_path, 5)
    args = ["adapt", str(photos[0].parent), "--reviewed-masks", str(masks), "--model", str(base)]
    assert main([*args, "--out", str(bundled), "--overwrite"]) == EXIT_USAGE
    assert "is in the folder of the bundled models" in capsys.readouterr().err


def _copies(tmp_path: Path, n: int, copies: int) -> list[tuple[Path, Path]]:
    """n reviewed photos, each also saved `copies` more times under other names with its mask."""
    photos, masks = _site(tmp_path, n)
    pairs = reviewed_pairs(photos, masks)
    for photo, mask in list(pairs):
        for k in range(copies):
            twin = photo.with_name(f"{photo.stem}-copy{k}.png")
            shutil.copy(photo, twin)
            pairs.append((twin, shutil.copy(mask, masks / f"{twin.stem}_mask.reviewed.png")))
    return pairs


def test_copies_of_a_photo_count_once(tmp_path: Path, base: Path) -> None:
    """Two photos saved three times each passed the 5-photo minimum ("6 of 6 photos") and scored the
    model on photos it was fitted on."""
    with pytest.raises(AdaptRefused, match=r"^2 reviewed photos; adaptation needs at least 5") as refused:
        adapt_model(base, _copies(tmp_path / "a", 2, 2), tmp_path / "a.onnx")
    assert "4 photos are copies of another (the same picture, re-saved or re-encoded)" in str(refused.value)
    assert "p0-copy0.png (of p0.png)" in str(refused.value) and "and 1 more" in str(refused.value)
    assert not (tmp_path / "a.onnx").exists()
    result = adapt_model(base, _copies(tmp_path / "b", 5, 1), tmp_path / "b.onnx")
    assert result.photos == 5 and result.adapted.photos == result.base.photos == 5
    assert any("5 photos are copies of another" in n for n in result.notes)
    meta = json.loads(result.metadata[KEY_ADAPTATION])
    assert [p["photo"] for p in meta["photos"]] == [f"p{i}.png" for i in range(5)]


def _repaint(masks: Path, names: list[str], a: int, b: int) -> None:
    """The masks of `names` with classes a and b exchanged, as a mask made for another convention."""
    for name in names:
        path = masks / f"{name}_mask.reviewed.png"
        mask = read_reviewed_mask(path)
        labels = mask.labels.copy()
        labels[mask.labels == a], labels[mask.labels == b] = b, a
        write_reviewed_mask(path, labels, DEFAULT_CLASSES, mask.review, overwrite=True)


def test_masks_with_asset_and_background_swapped_are_refused(tmp_path: Path, base: Path) -> None:
    """Accepted before, and leave-one-out, scored against the same wrong masks, called it an improvement."""
    photos, masks = _site(tmp_path, 5)
    _repaint(masks, ["p0", "p1", "p2"], ASSET, BACKGROUND)
    out = tmp_path / "site.onnx"
    with pytest.raises(AdaptRefused, match="as if asset and background had swapped colours") as refused:
        adapt_model(base, reviewed_pairs(photos, masks), out)
    assert "3 of the 5 masks" in str(refused.value) and "p0.png, p1.png, p2.png" in str(refused.value)
    assert not out.exists()


def test_a_few_odd_masks_are_warned_about_and_a_wrong_model_is_not_a_swap() -> None:
    """One mask in five that looks swapped is named, not refused; a model that takes the whole pipe for
    rust (the tiny site's base model, the shipped one on repainted pipes) is no swap: the pipe's outline
    agrees."""
    good = MaskAgreement(0.9, 0.02, "asset")
    odd = MaskAgreement(0.3, 0.9, "asset")
    assert check_conventions([("a.png", good)] * 4) is None
    warning = check_conventions([("odd\x1b.png", odd)] + [("a.png", good)] * 4)
    assert warning is not None and warning.startswith("1 mask disagrees with the base model as if asset")
    assert "odd\\x1b.png" in warning and "\x1b" not in warning
    with pytest.raises(AdaptRefused, match="3 of the 5 masks"):
        check_conventions([("odd.png", odd)] * 3 + [("a.png", good)] * 2)
    mask = np.full((8, 8), BACKGROUND)
    mask[2:6] = ASSET
    model = np.where(mask == ASSET, CORROSION, BACKGROUND)  # the pipe taken for rust
    wrong = agreement(confusion(mask, model, 3), DEFAULT_CLASSES)
    assert wrong.pipe_iou == 1.0 and not wrong.looks_swapped
    swapped = agreement(confusion(np.where(mask == ASSET, BACKGROUND, ASSET), model, 3), DEFAULT_CLASSES)
    assert swapped.looks_swapped and swapped.swapped_with == "asset"
    other = tuple(replace(c, name="other") if c.id == BACKGROUND else c for c in DEFAULT_CLASSES)
    named_other = agreement(confusion(np.where(mask == ASSET, BACKGROUND, ASSET), model, 3), other)
    assert named_other.looks_swapped and named_other.swapped_with == "asset", "the check skipped it"


GREY = (150, 150, 160)


def _painted(root: Path, n: int, colour: tuple[int, int, int]) -> tuple[list[Path], Path]:
    """n reviewed photos of pipes painted `colour` (named q0, q1, ...)."""
    from app.core.files import write_png
    from app.core.reviewed import ReviewState
    from tests.core.test_adapt import _scene

    rng = np.random.default_rng(5)
    root.mkdir(parents=True)
    photos = []
    for i in range(n):
        rgb, labels = _scene(rng, colour)
        photos.append(write_png(root / f"q{i}.png", rgb))
        review = ReviewState("reviewed", "A. Inspector", "2026-12-01T10:00:00+00:00")
        write_reviewed_mask(root / f"q{i}_mask.reviewed.png", labels, DEFAULT_CLASSES, review)
    return photos, root


def test_adapting_an_adapted_model_keeps_the_chain_and_scores_only_new_photos(tmp_path: Path, base: Path):
    photos, masks = _site(tmp_path / "first", 5)
    first = adapt_model(base, reviewed_pairs(photos, masks), tmp_path / "a1.onnx")
    more, more_masks = _painted(tmp_path / "second", 3, GREY)  # the site's other pipes
    pairs = reviewed_pairs(photos, masks) + reviewed_pairs(more, more_masks)
    second = adapt_model(first.path, pairs, tmp_path / "a2.onnx", FEW)
    assert second.photos == 8 and second.adapted.photos == second.base.photos == 3
    assert second.loo_over == "3 reviewed photos new to the base model (of 8)"
    assert any(
        "5 photos (p0.png, p1.png, p2.png and 2 more) were used by an earlier" in n for n in second.notes
    )
    model = SegmentationModel.load(second.path, "cpu")
    meta = json.loads(model.metadata[KEY_ADAPTATION])
    assert [s["base_model"] for s in meta["chain"]] == [
        {"file": "base.onnx", "sha256": sha256_file(base)},
        {"file": "a1.onnx", "sha256": sha256_file(first.path)},
    ]
    assert [s["photos"] for s in meta["chain"]] == [5, 8]
    assert meta["chain"][0]["photo_sha256"] == [sha256_file(p) for p in photos]
    assert meta["leave_one_out"]["left_out_used_before"] == [p.name for p in photos]
    trained_on = model.metadata[contract.KEY_TRAINED_ON]
    assert trained_on.endswith(
        "; adapted to 5 reviewed photos; adapted to 8 reviewed photos (5 of them used by an earlier "
        "adaptation too)"
    )
    assert (
        model.accuracy is not None and "new to it among the 8 it was adapted on" in model.accuracy.measured_on
    )
    with pytest.raises(AdaptRefused, match="all 5 photos were used by an earlier adaptation"):
        adapt_model(first.path, reviewed_pairs(photos, masks), tmp_path / "again.onnx")
    assert not (tmp_path / "again.onnx").exists()


def test_a_record_of_the_first_format_is_one_step_and_a_broken_one_is_said() -> None:
    sha = "ab" * 32
    old = {
        "base_model": {"file": "m.onnx", "sha256": "cd" * 32},
        "photos": [{"photo": "a.png", "sha256": sha}],
    }
    steps, whole = earlier_steps({KEY_ADAPTATION: json.dumps(old)})
    assert whole and steps == [{"base_model": old["base_model"], "photos": 1, "photo_sha256": [sha]}]
    assert earlier_steps({}) == ([], True)
    assert earlier_steps({KEY_ADAPTATION: "{not json"}) == ([], False)
    bad = {"chain": [{"base_model": {"file": "m.onnx", "sha256": "x"}, "photos": 2, "photo_sha256": [sha]}]}
    assert earlier_steps({KEY_ADAPTATION: json.dumps(bad)}) == ([], False)
