"""The reduced decode that feeds the network (`app.core.photo_decode`): the one path every entry takes."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.core.analysis import analyze_photo, analyze_rgb, analyze_view
from app.core.engines import make_engine
from app.core.errors import ImageReadError
from app.core.inference import InferenceOptions, network_input
from app.core.model import SegmentationModel
from app.core.photo_decode import network_scale, start_decode
from app.core.photos import read_image
from app.core.pipeline import BatchOptions, run_batch


def _scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth colour fields with sharp-edged blobs, so the tiny model sees every class."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 32), max(2, w // 32), 3), np.uint8)
    rgb = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.GaussianBlur(rgb, (5, 5), 1.5)


def _jpeg(path: Path, rgb: np.ndarray, orientation: int = 1) -> Path:
    img = Image.fromarray(rgb)
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    img.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def _figures(result) -> tuple:
    return (result.size, result.stats, result.assessment, result.measures, result.mean_confidence)


def test_the_scale_leaves_at_least_twice_the_network_input_per_side() -> None:
    net = (256, 256)
    assert network_scale(256, 256, net) == 1  # the training photos: the full decode, bit for bit
    assert network_scale(1023, 2000, net) == 1
    assert network_scale(1024, 1024, net) == 2
    assert network_scale(4000, 3000, net) == 4  # 12 MP: 1000 x 750
    assert network_scale(8160, 6120, net) == 8  # 50 MP: 1020 x 765
    assert network_scale(4000, 3000, None) == 1


def test_a_small_photo_is_seen_by_the_network_exactly_as_before(
    tmp_path: Path, tiny_model: SegmentationModel
) -> None:
    path = _jpeg(tmp_path / "small.jpg", _scene(120, 100))
    with start_decode(path, input_size=tiny_model.input_size) as photo:
        assert photo.scale == 1
        np.testing.assert_array_equal(photo.network_view(), read_image(path))
    assert _figures(analyze_photo(tiny_model, path)) == _figures(
        analyze_rgb(tiny_model, read_image(path), path)
    )


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_large_jpeg_feeds_the_network_from_its_reduced_decode(
    tmp_path: Path, tiny_model: SegmentationModel, orientation: int
) -> None:
    rgb = _scene(400, 520, seed=orientation)
    path = _jpeg(tmp_path / "large.jpg", rgb, orientation)
    with start_decode(path, input_size=tiny_model.input_size) as photo:
        assert photo.scale == 4
        view, full = photo.network_view(), photo.full()
    reference = read_image(path)
    np.testing.assert_array_equal(full, reference)  # the full photo is read_image's, bit for bit
    assert photo.shape == reference.shape[:2]
    assert view.shape == (-(-reference.shape[0] // 4), -(-reference.shape[1] // 4), 3)  # rotated too
    shrunk = cv2.resize(reference, (view.shape[1], view.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(view.astype(int) - shrunk).mean() < 3  # the same scene, a few levels apart
    got = analyze_photo(tiny_model, path)
    assert not np.array_equal(
        network_input(view, tiny_model.input_size), network_input(reference, tiny_model.input_size)
    )
    from_view = analyze_view(tiny_model, view, photo.shape, path)
    assert _figures(got) == _figures(from_view)
    np.testing.assert_array_equal(got.labels, from_view.labels)


@pytest.mark.parametrize("damage", ["corrupt body", "cut short"])
def test_a_damaged_large_jpeg_is_refused_and_its_full_decode_joined(tmp_path: Path, damage: str) -> None:
    buf = io.BytesIO()
    Image.fromarray(_scene(600, 800, seed=3)).save(buf, "JPEG", quality=90)
    data = bytearray(buf.getvalue())
    mid = len(data) // 2
    if damage == "corrupt body":
        data[mid : mid + 300] = np.random.default_rng(3).integers(0, 256, 300, dtype=np.uint8).tobytes()
    else:
        del data[mid:]
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))
    photo = start_decode(path, input_size=(32, 32))
    assert photo.scale == 8
    with pytest.raises(ImageReadError, match=r"damaged\.jpg: corrupt or truncated"):
        photo.network_view()
    assert photo._thread is None  # joined: no decode left running behind the error
    with pytest.raises(ImageReadError, match=r"damaged\.jpg: corrupt or truncated"):
        start_decode(path, input_size=(32, 32)).full()  # never shown
    late = start_decode(path, input_size=(32, 32))
    late.close()  # OpenCV's full decode is done (it decodes a corrupt body silently) before full() is asked
    with pytest.raises(ImageReadError, match=r"damaged\.jpg: corrupt or truncated"):
        late.full()  # still never shown: under load this race let a corrupt photo through


def test_every_path_gives_the_same_figures_for_a_large_jpeg(
    tmp_path: Path, tiny_model: SegmentationModel, tiny_model_path: Path
) -> None:
    """analyze_photo (the view alone), the serial batch and the pipelined engine (the full decode on a
    second thread beside the network): the same figures, from the reduced decode."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [_jpeg(folder / f"p{i}.jpg", _scene(520, 700, seed=i)) for i in range(3)]
    for mode in ("resize", "tiles"):
        inference = InferenceOptions(mode=mode)
        alone = {p: analyze_photo(tiny_model, p, inference) for p in paths}
        options = BatchOptions(inference=inference, overwrite=True)
        for engine in ("serial", "pipelined"):
            out = tmp_path / f"{mode}-{engine}"
            summary = run_batch(
                tiny_model, paths, out, options, engine=make_engine(engine), keep_results=True
            )
            assert summary.done == tuple(paths)
            for outcome in summary.outcomes:
                assert _figures(outcome.result) == _figures(alone[outcome.path])
                np.testing.assert_array_equal(outcome.result.labels, alone[outcome.path].labels)
                np.testing.assert_array_equal(outcome.photo, read_image(outcome.path))


def test_the_sha256_asked_for_is_of_the_bytes_decoded(tmp_path: Path) -> None:
    """The window keys a photo's edits to its content: hashed from the bytes the decode read, not a second
    read of a file that may be replaced meanwhile; not computed where nobody asks (a batch)."""
    from app.core.files import sha256_file

    path = _jpeg(tmp_path / "p.jpg", _scene(600, 800))
    read = sha256_file(path)
    with start_decode(path, input_size=(32, 32), sha256=True) as photo:
        path.write_bytes(b"another file by now")  # replaced after the decode read it
        assert photo.sha256 == read != sha256_file(path)
    with start_decode(_jpeg(tmp_path / "q.jpg", _scene(60, 80)), input_size=(32, 32)) as photo:
        assert photo.sha256 == ""
