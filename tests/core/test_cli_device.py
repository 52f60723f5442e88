"""`--device cuda` where CUDA does not run is refused before any photo is analysed; `auto` falls back to
the CPU saying why. ONNX Runtime is made to offer no CUDA, so the tests mean the same on a GPU machine."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest

from app import cli
from app.core.project import Project
from tests.helpers.pipe_photos import photo_folder

NO_CUDA = "CUDA not available: this onnxruntime build has no CUDA support"


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])


def test_analyze_refuses_cuda_that_does_not_run(
    no_cuda: None, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    folder = photo_folder(tmp_path / "in", 1, 0.1)
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--out", str(out), "--model", str(tiny_model_path), "--device", "cuda"]
    assert cli.main(args) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --device cuda: CUDA does not run here ({NO_CUDA}); pass --device auto to "
                   "fall back to the CPU"]  # fmt: skip
    assert not out.exists() or not any(out.iterdir())


def test_analyze_auto_falls_back_to_the_cpu_saying_why(
    no_cuda: None, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    folder = photo_folder(tmp_path / "in", 1, 0.1)
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--out", str(out), "--model", str(tiny_model_path), "--device", "auto"]
    assert cli.main(args) == cli.EXIT_OK
    assert f"on CPU ({NO_CUDA})" in capsys.readouterr().err


def test_project_add_refuses_cuda_that_does_not_run(
    no_cuda: None, tmp_path: Path, tiny_model_path: Path, capsys
) -> None:
    folder = photo_folder(tmp_path / "in", 1, 0.1)
    target = str(tmp_path / "site.corroscope")
    assert cli.main(["project", "create", target]) == 0
    args = ["project", "add", target, "--asset", "P-1", "--date", "2024-05-01", str(folder)]
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "cuda"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "error: --device cuda: CUDA does not run here" in err and "[1/1]" not in err
    with Project.open(target) as project:
        assert project.inspections() == []
    assert cli.main([*args, "--model", str(tiny_model_path), "--device", "auto"]) == cli.EXIT_OK
    assert f"on CPU ({NO_CUDA})" in capsys.readouterr().err
