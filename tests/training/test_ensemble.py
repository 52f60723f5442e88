"""Ensembles: one contract file whose probabilities are the mean of its members'."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from app.core import contract
from app.core.errors import CorroscopeError
from app.core.files import new_file_mode
from app.core.model import SegmentationModel
from app.core.synthetic import synthetic_pipe
from tests.training.test_quantize import SIZE, conv_model, photo_folder
from training import ensemble, quantize

pytest.importorskip("onnxruntime.quantization", reason="needs onnxruntime's quantization tools")


def second_member(path: Path, size: int = SIZE) -> Path:
    """The tiny model with other classifier weights, so the two members disagree somewhere."""
    proto = onnx.load(str(conv_model(path, size)))
    w2 = next(i for i in proto.graph.initializer if i.name == "w2")
    value = numpy_helper.to_array(w2) * np.float32(0.5) + np.float32(0.3)
    w2.CopyFrom(numpy_helper.from_array(value.astype(np.float32), "w2"))
    onnx.save(proto, str(path))
    return path


@pytest.fixture()
def members(tmp_path) -> list[Path]:
    return [conv_model(tmp_path / "a.onnx"), second_member(tmp_path / "b.onnx")]


def test_probabilities_are_the_mean_of_the_members(tmp_path, members):
    metrics = {"per_photo": {"mean_iou": 0.5}}
    merged = ensemble.write_ensemble(members, tmp_path / "ens.onnx", metrics=metrics)
    photos = np.stack([synthetic_pipe(7 + i, SIZE)[0] for i in range(3)])
    each = [SegmentationModel.load(m, device="cpu").predict(photos) for m in members]
    assert not np.allclose(each[0], each[1]), "the members must differ for the mean to mean something"
    np.testing.assert_allclose(merged.predict(photos), (each[0] + each[1]) / 2, atol=1e-6)
    import onnxruntime as ort

    session = ort.InferenceSession(str(merged.path), providers=["CPUExecutionProvider"])
    (labels,) = session.run([contract.LABELS_OUTPUT], {contract.INPUT_NAME: photos})
    np.testing.assert_array_equal(labels, ((each[0] + each[1]) / 2).argmax(-1))
    ops = [n.op_type for n in onnx.load(str(merged.path)).graph.node]
    assert ops.count("ArgMax") == 1, "the members' own `labels` branches (unnamed nodes here) are dropped"
    listed = json.loads(merged.metadata[ensemble.KEY_ENSEMBLE])
    assert [m["sha256"] for m in listed] == [SegmentationModel.load(m, device="cpu").sha256 for m in members]
    assert json.loads(merged.metadata[contract.KEY_METRICS]) == metrics
    assert merged.classes == SegmentationModel.load(members[0], device="cpu").classes


def test_members_figures_are_not_the_ensembles(tmp_path, members):
    merged = ensemble.write_ensemble(members, tmp_path / "ens.onnx")
    assert SegmentationModel.load(members[0], device="cpu").metadata.get(contract.KEY_METRICS)
    assert contract.KEY_METRICS not in merged.metadata


def test_members_that_do_not_fit_are_refused(tmp_path, members):
    other = conv_model(tmp_path / "big.onnx", size=SIZE * 2)
    with pytest.raises(CorroscopeError, match="does not fit"):
        ensemble.merge_models([members[0], other])
    with pytest.raises(CorroscopeError, match="at least two"):
        ensemble.merge_models(members[:1])


def test_int8_members_make_an_int8_ensemble_that_names_its_float_one(tmp_path, members):
    photos = photo_folder(tmp_path / "photos", 4)
    int8 = []
    for m in members:
        out = m.with_suffix(".int8.onnx")
        quantize.quantize_model(m, photos, out, count=4)
        int8.append(out)
    with pytest.raises(CorroscopeError, match="mix of int8 and float"):
        ensemble.merge_models([members[0], int8[1]])
    with pytest.raises(CorroscopeError, match="--float-model"):
        ensemble.merge_models(int8)
    float_ens = ensemble.write_ensemble(members, tmp_path / "ens.onnx")
    int8_ens = ensemble.write_ensemble(int8, tmp_path / "ens.int8.onnx", float_model=float_ens.path)
    made = json.loads(int8_ens.metadata[quantize.KEY_QUANTIZATION])
    assert made["float_model_sha256"] == float_ens.sha256 and len(made["members"]) == 2
    check = np.stack([synthetic_pipe(40 + i, SIZE)[0] for i in range(3)])
    agree = (float_ens.predict(check).argmax(-1) == int8_ens.predict(check).argmax(-1)).mean()
    assert agree > 0.95
    member = ensemble.extract_member(int8_ens.path, 1)  # an int8 member keeps its own quantization record
    record = {p.key: p.value for p in member.metadata_props}[quantize.KEY_QUANTIZATION]
    assert json.loads(record) == made["members"][1]


def test_cli_never_replaces_a_file_without_overwrite(tmp_path, members, caplog):
    out = tmp_path / "ens.onnx"
    out.write_bytes(b"a user's file")
    assert ensemble.main(["--models", *map(str, members), "--out", str(out)]) == 2
    assert out.read_bytes() == b"a user's file" and "exists" in caplog.text
    assert ensemble.main(["--models", *map(str, members), "--out", str(out), "--overwrite"]) == 0
    assert SegmentationModel.load(out, device="cpu").metadata[ensemble.KEY_ENSEMBLE]
    assert out.stat().st_mode & 0o777 == new_file_mode(), "a plain file's mode, not mkstemp's 0600"


def test_a_member_comes_back_out_of_an_ensemble(tmp_path, members):
    merged = ensemble.write_ensemble(members, tmp_path / "ens.onnx")
    photos = np.stack([synthetic_pipe(60 + i, SIZE)[0] for i in range(2)])
    for index, original in enumerate(members):
        out = tmp_path / f"member{index}.onnx"
        assert ensemble.main(["--extract", str(index), "--models", str(merged.path), "--out", str(out)]) == 0
        member = SegmentationModel.load(out, device="cpu")
        np.testing.assert_allclose(
            member.predict(photos), SegmentationModel.load(original, device="cpu").predict(photos), atol=1e-6
        )
        made = json.loads(member.metadata[ensemble.KEY_MEMBER_OF])
        assert made["ensemble_sha256"] == merged.sha256 and made["file"] == original.name
        assert ensemble.KEY_ENSEMBLE not in member.metadata
    again = ensemble.write_ensemble(
        [tmp_path / "member0.onnx", tmp_path / "member1.onnx"], tmp_path / "again.onnx"
    )
    np.testing.assert_allclose(again.predict(photos), merged.predict(photos), atol=1e-6)
    assert ensemble.KEY_MEMBER_OF not in again.metadata


def test_extracting_a_member_that_is_not_there_says_so(tmp_path, members, caplog):
    merged = ensemble.write_ensemble(members, tmp_path / "ens.onnx")
    assert (
        ensemble.main(["--extract", "2", "--models", str(merged.path), "--out", str(tmp_path / "m.onnx")])
        == 2
    )
    assert "no member 2" in caplog.text and not (tmp_path / "m.onnx").exists()
    with pytest.raises(CorroscopeError, match="no member 0"):
        ensemble.extract_member(members[0], 0)  # a plain model is no ensemble
