"""Pair finding in both layouts, broken folders, mask decoding, splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.palette import encode_mask
from training import data


def test_origin_layout_pairs_by_number(make_dataset):
    root = make_dataset(n=4, layout="origin")
    pairs = data.find_pairs(root)
    assert [p.id for p in pairs] == ["000", "001", "002", "003"]
    assert pairs[2].image.name == "ORI_002.png" and pairs[2].mask.name == "GT_002.png"


def test_plain_layout_pairs_by_stem(make_dataset):
    root = make_dataset(n=3, layout="plain")
    pairs = data.find_pairs(root)
    assert [p.id for p in pairs] == ["photo_00", "photo_01", "photo_02"]
    assert all(p.image.parent.name == "images" and p.mask.parent.name == "masks" for p in pairs)


def test_samples_decode_to_the_written_labels(make_dataset, pipe_pair):
    root = make_dataset(n=3, layout="plain", seed=7)
    samples = data.load_samples(data.find_pairs(root), size=None)
    assert samples.images.shape == (3, 64, 64, 3) and samples.labels.shape == (3, 64, 64)
    for i in range(3):
        _, labels = pipe_pair(7 + i, 64)
        np.testing.assert_array_equal(samples.labels[i], labels)
    assert samples.off_palette == (0, 0, 0)


def test_unpaired_files_are_named(make_dataset):
    root = make_dataset(n=3, layout="origin")
    (root / "DATASET" / "ground_truth" / "GT_001.png").unlink()
    Image.new("RGB", (64, 64)).save(root / "DATASET" / "ground_truth" / "GT_099.png")
    with pytest.raises(data.DatasetError) as err:
        data.find_pairs(root)
    assert "ORI_001.png" in str(err.value) and "GT_099.png" in str(err.value)


def test_missing_layout_says_what_is_expected(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(data.DatasetError, match="images/ \\+ masks/"):
        data.find_pairs(tmp_path)


def test_size_mismatch_is_an_error(make_dataset):
    root = make_dataset(n=2, layout="plain")
    Image.new("RGB", (32, 64), (255, 0, 0)).save(root / "masks" / "photo_01.png")
    pairs = data.find_pairs(root)
    data.load_pair(pairs[0])
    with pytest.raises(data.DatasetError, match="must have its photo's size"):
        data.load_pair(pairs[1])


def test_unreadable_file_is_named(make_dataset):
    root = make_dataset(n=2, layout="plain")
    (root / "images" / "photo_01.png").write_bytes(b"not a png at all")
    pairs = data.find_pairs(root)
    refused = r"photo_01\.png: not an image Corroscope can read.*Replace or remove"
    with pytest.raises(data.DatasetError, match=refused):
        data.load_samples(pairs, size=None)


def test_off_palette_pixels_are_counted_and_decoded_to_nearest(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    labels = np.zeros((8, 8), np.uint8)
    labels[:, 4:] = 1
    mask = encode_mask(labels)
    mask[0, 0] = (230, 20, 10)  # near red: corrosion, on palette
    mask[0, 5] = (0, 0, 0)  # black: background by the origin's rule, off palette
    mask[1, 5] = (255, 255, 0)  # yellow: off palette
    mask[2, 5] = (20, 20, 240)  # near blue: asset
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "images" / "a.png")
    _, ids, off = data.load_pair(data.find_pairs(tmp_path)[0])
    assert off == 2
    assert ids[0, 0] == 0 and ids[0, 5] == 2 and ids[2, 5] == 1


def test_resize_keeps_class_ids_nearest(make_dataset):
    root = make_dataset(n=1, layout="plain", size=64)
    image, labels, _ = data.load_pair(data.find_pairs(root)[0], size=48)
    assert image.shape == (48, 48, 3) and labels.shape == (48, 48)
    assert set(np.unique(labels)) <= {0, 1, 2}


def test_seeded_split_is_reproducible_and_disjoint():
    ids = [f"{i:03d}" for i in range(50)]
    a = data.make_split(ids, 0.2, seed=3)
    b = data.make_split(list(reversed(ids)), 0.2, seed=3)
    c = data.make_split(ids, 0.2, seed=4)
    assert a.train == b.train and a.val == b.val
    assert a.val != c.val
    assert len(a.val) == 10 and not set(a.train) & set(a.val) and set(a.train) | set(a.val) == set(ids)


def test_split_manifest_round_trip(tmp_path):
    split = data.make_split([str(i) for i in range(10)], 0.3, seed=0)
    path = data.write_split(split, tmp_path / "run")
    back = data.read_split_manifest(path)
    assert back.train == split.train and back.val == split.val
    assert (tmp_path / "run" / "val.txt").read_text().split() == list(split.val)


def test_split_lists_are_read_and_checked(make_dataset):
    root = make_dataset(n=4, layout="origin")
    ids = [p.id for p in data.find_pairs(root)]
    (root / "train.txt").write_text("000\n001\n002\n")
    (root / "val.txt").write_text("003\n")
    split = data.read_split_lists(root, ids)
    assert split.train == ("000", "001", "002") and split.val == ("003",)
    (root / "val.txt").write_text("003\n042\n")
    with pytest.raises(data.DatasetError, match="042"):
        data.read_split_lists(root, ids)


def test_class_weights_favour_rare_classes():
    labels = np.array([0] * 10 + [1] * 30 + [2] * 60, np.uint8)
    w = data.class_weights(labels, 3)
    np.testing.assert_allclose(w, [3.0, 1.0, 0.5])


@pytest.mark.real_data
def test_real_data_pairs_and_lists(real_data):
    root = real_data
    pairs = data.find_pairs(root)
    assert len(pairs) == 194
    split = data.read_split_lists(root, [p.id for p in pairs])
    assert (len(split.train), len(split.val)) == (172, 22)


SPLITS = Path(__file__).resolve().parents[2] / "training" / "splits"


def test_committed_split_lists_and_folds_are_consistent():
    """The lists the model card's figures name (training/splits/) split 194 ids in two; the CV folds
    cover the same ids once each."""
    train = (SPLITS / "train.txt").read_text(encoding="utf-8").split()
    val = (SPLITS / "val.txt").read_text(encoding="utf-8").split()
    assert (len(train), len(val)) == (172, 22) and not set(train) & set(val)
    folds = json.loads((SPLITS / "folds.json").read_text(encoding="utf-8"))
    assert folds["fold_seed"] == 0 and len(folds["folds"]) == 5
    in_folds = [i for fold in folds["folds"] for i in fold]
    assert sorted(in_folds) == sorted(train + val)


@pytest.mark.real_data
def test_committed_split_lists_and_folds_are_the_data_sets(real_data):
    """training/splits/ holds the data set's own lists, and its folds are the ones training.cv deals from the
    data set with --fold-seed 0 (so the card's CV can be re-run)."""
    from training import cv

    for name in ("train.txt", "val.txt"):
        assert (real_data / name).read_text().split() == (SPLITS / name).read_text().split()
    folds = json.loads((SPLITS / "folds.json").read_text(encoding="utf-8"))
    assert cv.make_folds(cv.asset_shares(data.find_pairs(real_data)), 5, 0) == folds["folds"]


def test_exif_rotated_photo_is_read_as_shown(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    stored = np.zeros((8, 16, 3), np.uint8)  # stored landscape, EXIF says rotate 90 degrees
    stored[:, :8] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "images" / "a.jpg", exif=exif, quality=100)
    Image.fromarray(encode_mask(np.zeros((16, 8), np.uint8))).save(tmp_path / "masks" / "a.png")
    image, labels, _ = data.load_pair(data.find_pairs(tmp_path)[0])
    assert image.shape == (16, 8, 3) and labels.shape == (16, 8)


def test_training_shrinks_a_photo_as_the_app_feeds_it_to_the_network(make_dataset):
    """Training saw PIL-bilinear photos while the app area-averages them: the same photo now reaches the
    network the same way in both (a fine checkerboard shrinks to grey, not to aliased stripes)."""
    from app.core.inference import network_input

    root = make_dataset(n=1, layout="plain", size=64)
    pair = data.find_pairs(root)[0]
    image, _, _ = data.load_pair(pair, size=48)
    assert np.array_equal(image, network_input(data.read_rgb(pair.image), (48, 48)))
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
    grey = data._resize(np.dstack([checker] * 3), 16, nearest=False)
    assert np.all(np.abs(grey.astype(int) - 127) <= 1)
