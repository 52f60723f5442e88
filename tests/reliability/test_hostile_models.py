"""Hostile models: external data outside the model's folder, memory and time bombs, Ctrl+C
during a run that never ends, the protobuf scanner itself (text, outputs and classes:
test_hostile_model_outputs.py). Each model is built here (tests/reliability/hostile_onnx.py); the ones
that could take gigabytes or run for ever run in a child process with a timeout.

Names from the code under test are imported inside the tests, so each test fails on its own behaviour
against code without these defences (instead of the whole file failing to import).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from app import cli
from app.core.errors import ModelContractError
from app.core.model import SegmentationModel
from tests.reliability import hostile_onnx as hostile
from tests.reliability.conftest import ROOT, cli_command, cli_env, small_photos

WHERE = ["initializer", "sparse_initializer", "constant_node", "if_branch", "loop_body", "function"]


@pytest.fixture
def spied_sessions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every model source handed to `onnxruntime.InferenceSession`; a refused model must never get
    there (ONNX Runtime's own checks differ between versions)."""
    seen: list[object] = []
    real = ort.InferenceSession

    def spy(source, *args, **kwargs):
        seen.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    return seen


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    """models/ (where the model goes) beside a secret file outside it, a symlink to that file, a
    symlink to the parent folder, and a FIFO (reading it would hang)."""
    folder = tmp_path / "models"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(hostile.ORDER.tobytes())
    try:
        (folder / "link.bin").symlink_to(tmp_path / "secret.bin")
        (folder / "parent").symlink_to(tmp_path, target_is_directory=True)
    except OSError:  # Windows without the symlink privilege
        pass
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.bin")
    return folder


def _locations(folder: Path) -> dict[str, str]:
    return {
        "parent": "../secret.bin",
        "absolute": str(folder.parent / "secret.bin"),
        "symlink to a file outside": "link.bin",
        "through a symlinked folder": "parent/secret.bin",
        "ORT memory address": "*/_ORT_MEM_ADDR_/*",
        "a FIFO in the folder": "fifo.bin",
    }


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize(
    "kind",
    [
        "parent",
        "absolute",
        "symlink to a file outside",
        "through a symlinked folder",
        "ORT memory address",
        "a FIFO in the folder",
    ],
)
def test_external_data_outside_the_models_folder_is_refused_before_onnx_runtime_sees_it(
    where: str, kind: str, hostile_dir: Path, spied_sessions: list[object]
) -> None:
    location = _locations(hostile_dir)[kind]
    needs = {
        "a FIFO in the folder": "fifo.bin",
        "symlink to a file outside": "link.bin",
        "through a symlinked folder": "parent",
    }.get(kind)
    if needs and not os.path.lexists(hostile_dir / needs):
        pytest.skip(f"cannot make {needs} on this system")
    path = hostile.external_order_model(hostile_dir / f"{where}.onnx", location, where)
    with pytest.raises(ModelContractError) as info:
        SegmentationModel.load(path, device="cpu")
    text = str(info.value)
    assert spied_sessions == [], f"ONNX Runtime was given the model: {text}"
    assert path.name in text and "external data" in text and "\n" not in text
    assert "refused" in text or "cannot be read" in text


@pytest.mark.parametrize("where", WHERE)
def test_external_data_inside_the_models_folder_still_loads_and_gives_the_right_answer(
    where: str, hostile_dir: Path, spied_sessions: list[object]
) -> None:
    """The same six places, with the data in the model's folder (a sub-folder, through a symlink that
    stays inside): loaded from the file, and the figures are the channel model's."""
    from tests.helpers.tiny_models import expected_probabilities

    (hostile_dir / "data").mkdir()
    (hostile_dir / "data" / "order.bin").write_bytes(hostile.ORDER.tobytes())
    (hostile_dir / "data" / "values.bin").write_bytes(hostile.ORDER[1:].tobytes())
    name = "values.bin" if where == "sparse_initializer" else "order.bin"
    path = hostile.external_order_model(hostile_dir / f"{where}.onnx", f"data/{name}", where)
    model = SegmentationModel.load(path, device="cpu")
    assert spied_sessions == [str(path)], "a model with external data is loaded from its file"
    batch = np.random.default_rng(3).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(model.predict(batch), expected_probabilities(batch), atol=1e-5)
    # and the walker is the one that found it (not ONNX Runtime)
    from app.core.onnx_scan import external_data_refs

    refs = external_data_refs(path.read_bytes())
    assert [r.location for r in refs] == [f"data/{name}"]


def test_the_scanner_reads_what_onnx_writes_and_refuses_what_is_not_onnx(tmp_path: Path) -> None:
    """Our protobuf walker against onnx's own serializer: the external tensors of every container, none
    in the shipped-style channel model, and a clear refusal for bytes that are not a model."""
    from app.core.onnx_scan import MalformedModel, external_data_refs
    from tests.helpers.tiny_models import channel_model

    assert external_data_refs(channel_model(tmp_path / "plain.onnx").read_bytes()) == []
    for where in WHERE:
        path = hostile.external_order_model(tmp_path / f"{where}.onnx", "x.bin", where)
        refs = external_data_refs(path.read_bytes())
        assert len(refs) == 1 and refs[0].location == "x.bin", where
        assert refs[0].number("length") == (16 if where == "sparse_initializer" else 24)
    for junk in (b"\xff\xd8\xff\xe0JFIF" + bytes(50), b"\x0a\xff\xff\xff\xff\x0f", bytes([0x08]) * 3):
        with pytest.raises(MalformedModel):
            external_data_refs(junk)
    for name in ("random.onnx", "jpeg.onnx"):
        path = tmp_path / name
        path.write_bytes(b"\xff\xd8\xff\xe0" + np.random.default_rng(1).bytes(3000))
        with pytest.raises(ModelContractError, match="not a usable ONNX model"):
            SegmentationModel.load(path, device="cpu")


# A child process that loads a model, runs one photo-sized batch twice and reports as JSON: the error
# of each step, its seconds, and the peak resident memory of the process (MB).
_CHILD = r"""
import json, sys, time
import numpy as np
from app.core.model import SegmentationModel

def peak_mb():
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
    except ImportError:
        import psutil
        return psutil.Process().memory_info().peak_wset / 2**20

report = {"baseline_mb": peak_mb()}
def step(name, work):
    start, cpu = time.monotonic(), time.process_time()
    try:
        work()
        report[name] = None
    except Exception as exc:
        report[name] = f"{type(exc).__name__}: {exc}"
    report[name + "_s"] = time.monotonic() - start
    report[name + "_cpu_s"] = time.process_time() - cpu
    report[name + "_mb"] = peak_mb()

box = {}
step("load", lambda: box.update(model=SegmentationModel.load(sys.argv[1], device="cpu")))
if "model" in box:
    batch = np.zeros((1, 32, 32, 3), np.uint8)
    step("first", lambda: box["model"].predict(batch))
    step("second", lambda: box["model"].predict(batch))
print(json.dumps(report))
"""


def _child(model: Path, timeout: float = 60, **env: str) -> dict:
    """Run `_CHILD` on `model`; a child that does not finish in `timeout` fails the test (it hung)."""
    full_env = {**cli_env(), **{f"CORROSCOPE_{k.upper()}": v for k, v in env.items()}}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(model)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{model.name}: still running after {timeout} s (no time budget?)")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


MEMORY_BOMBS = {
    # the 744-byte model: 2.4 GB in one ConstantOfShape per run
    "ConstantOfShape, 2.4 GB": (lambda p: hostile.constant_of_shape_model(p, 600_000_000), {}),
    # the same, its shape known only at run time
    "ConstantOfShape from the photo, 2.4 GB": (
        lambda p: hostile.constant_of_shape_model(p, 600_000_000, from_input=True),
        {},
    ),
    # three 0.6 GB tensors alive together: each under the budget, together over it
    "three ConstantOfShape of 0.6 GB": (
        lambda p: hostile.constant_of_shape_model(p, 150_000_000, from_input=True, copies=3),
        {},
    ),
    # 0.8 GB that ONNX Runtime would compute while loading (constant folding), under a 300 MB budget
    "0.8 GB folded at load": (
        lambda p: hostile.constant_of_shape_model(p, 200_000_000),
        {"memory_mb": "300"},
    ),
}


@pytest.mark.parametrize("name", list(MEMORY_BOMBS))
def test_a_memory_bomb_fails_each_run_within_the_memory_budget(name: str, tmp_path: Path) -> None:
    make, env = MEMORY_BOMBS[name]
    path = make(tmp_path / "bomb.onnx")
    assert path.stat().st_size < 1200, "a tiny file"
    report = _child(path, **env)
    budget = int(env.get("memory_mb", "1024"))
    assert report["load"] is None, report
    for run in ("first", "second"):
        assert report[run] and "ModelBudgetError" in report[run], report
        assert f"memory budget of {budget:,} MB" in report[run]
        assert "CORROSCOPE_MEMORY_MB" in report[run]
    # the process never held more than the budget (the bombs ask for 1.8-2.4 GB, or 0.8 GB over 300 MB)
    grown = report["second_mb"] - report["baseline_mb"]
    assert grown < budget, report


@pytest.mark.parametrize("dynamic_channels", [False, True], ids=["fixed channels", "channels probed at load"])
def test_a_loop_of_10_12_steps_is_stopped_by_the_time_budget(dynamic_channels: bool, tmp_path: Path) -> None:
    """Per run (and at load, where the class count is probed): stopped at the budget with a message that
    says which budget and how to raise it; later runs are refused at once instead of waiting again."""
    path = hostile.endless_loop_model(tmp_path / "loop.onnx", dynamic_channels=dynamic_channels)
    report = _child(path, timeout=60, run_seconds="1.5")
    if dynamic_channels:
        assert report["load"] and "time budget of 1.5 s" in report["load"], report
        assert 1.4 < report["load_s"] < 4, report
        return
    assert report["load"] is None, report
    assert "ModelBudgetError" in report["first"] and "time budget of 1.5 s" in report["first"], report
    assert "CORROSCOPE_RUN_SECONDS" in report["first"]
    assert 1.4 < report["first_s"] < 4, report
    assert "time budget" in report["second"] and report["second_s"] < 0.5, report


def test_a_model_that_takes_long_to_load_is_stopped_by_the_load_budget(tmp_path: Path) -> None:
    """ONNX Runtime's session creation is cancelled (SessionOptions.set_load_cancellation_flag) once the
    load budget runs out; the message names the budget."""
    path = hostile.long_chain_model(tmp_path / "long.onnx")  # a full load: ~2.2 s of CPU here
    report = _child(path, timeout=120, load_seconds="0.3")
    assert report["load"] and "time budget of 0.3 s to load" in report["load"], report
    assert "CORROSCOPE_LOAD_SECONDS" in report["load"]
    # CPU time, not wall time: a loaded machine stretches the wall clock, not the work done before the stop
    assert report["load_cpu_s"] < 1.5, report


def test_the_photo_budget_covers_all_runs_of_a_photo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fine mode runs the network several times per photo: the photo's budget bounds them together
    (each network call of one photo goes through the same deadline, `inference._predictor`)."""
    from app.core import inference
    from app.core.budget import ModelBudget
    from app.core.errors import ModelBudgetError

    path = hostile.endless_loop_model(tmp_path / "slow.onnx", steps=50_000)  # about 0.1-0.2 s a run
    model = SegmentationModel.load(path, device="cpu", budget=ModelBudget(photo_seconds=1.5))
    photo = np.zeros((1, 32, 32, 3), np.uint8)
    predict = inference._predictor(model)  # what segment uses for all the runs of one photo
    start = time.monotonic()
    with pytest.raises(ModelBudgetError, match=r"time budget of 1\.5 s for one photo"):
        for _ in range(80):  # 80 runs would take 8-16 s
            predict(photo)
    assert time.monotonic() - start < 3.0
    # a photo too large for the budget does not condemn the model: the next (small) photo runs
    assert inference.segment(model, np.zeros((32, 32, 3), np.uint8)).labels.shape == (32, 32)


def test_selftest_on_an_endless_model_ends_with_a_clear_message(tmp_path: Path) -> None:
    for dynamic in (False, True):
        path = hostile.endless_loop_model(tmp_path / f"loop{int(dynamic)}.onnx", dynamic_channels=dynamic)
        env = {**cli_env(), "CORROSCOPE_RUN_SECONDS": "2"}
        try:
            done = subprocess.run(
                cli_command("selftest", "--model", path, "--device", "cpu"),
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("selftest hangs on a model that loops for ever")
        assert done.returncode == 1, done.stderr
        assert "SELFTEST FAILED" in done.stderr and "time budget of 2 s" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert "Selftest passed" not in done.stdout


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 60) -> str:
    """Read the child's stderr+stdout (merged) until `text` appears."""
    seen = ""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while text not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"never printed {text!r}: {seen[-2000:]}")
        seen += proc.stdout.readline()
    return seen


def _interrupt_and_time(proc: subprocess.Popen, presses: int = 1) -> tuple[float, str]:
    """SIGINT `presses` times 0.2 s apart; seconds from the last one to the exit, and the rest of the
    output."""
    for k in range(presses):
        if k:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    try:
        rest, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl+C did not stop a run that never ends")
    return time.monotonic() - start, rest


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child needs POSIX signals")
def test_ctrl_c_stops_a_run_that_never_ends_within_a_second(tmp_path: Path) -> None:
    """`selftest` (Ctrl+C once) and `analyze` (twice: the first asks to stop after the photo) on the
    endless Loop model with the default budgets: exit 130 within a second, no traceback."""
    path = hostile.endless_loop_model(tmp_path / "loop.onnx")
    photos = small_photos(tmp_path / "in", 2)
    env = {**cli_env(), "PYTHONUNBUFFERED": "1"}
    commands = [
        (cli_command("selftest", "--model", path, "--device", "cpu"), "Provider:", 1),
        (
            cli_command("analyze", *photos, "--out", tmp_path / "out", "--model", path, "--device", "cpu"),
            "Model:",
            2,
        ),
    ]
    for command, ready, presses in commands:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
        )
        _wait_for(proc, ready)
        time.sleep(1.0)  # well inside session.run by now
        seconds, rest = _interrupt_and_time(proc, presses)
        assert proc.returncode == cli.EXIT_INTERRUPTED, rest
        assert seconds < 1.0, f"{command[-5]}: {seconds:.2f} s after Ctrl+C"
        assert "Traceback" not in rest and "Interrupted" in rest, rest


def test_budgets_come_from_the_environment_with_safe_defaults() -> None:
    from app.core.budget import ModelBudget

    default = ModelBudget.from_env({})
    assert default == ModelBudget(load_seconds=120.0, run_seconds=60.0, photo_seconds=600.0, memory_mb=1024)
    env = {"CORROSCOPE_RUN_SECONDS": "2.5", "CORROSCOPE_MEMORY_MB": "300", "CORROSCOPE_LOAD_SECONDS": "x"}
    got = ModelBudget.from_env(env)
    assert (got.run_seconds, got.memory_mb, got.load_seconds) == (2.5, 300, 120.0)
    for bad in ("0", "-1", "nan", "inf"):
        assert ModelBudget.from_env({"CORROSCOPE_PHOTO_SECONDS": bad}).photo_seconds == 600.0


def test_a_model_file_over_2_gb_is_refused_without_being_read(tmp_path: Path) -> None:
    """No ONNX file can be over 2 GB (protobuf's limit); a sparse file of that size is refused at once
    instead of being read into memory."""
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as fh:
        fh.truncate(2**31 + 10)
    start = time.monotonic()
    with pytest.raises(ModelContractError, match="larger than an ONNX file can be"):
        SegmentationModel.load(path, device="cpu")
    assert time.monotonic() - start < 0.5


def test_a_model_file_bigger_than_the_memory_budget_is_refused_without_being_read(tmp_path: Path) -> None:
    """A 1.5 GB file (garbage or not) cannot run within the default 1 GB budget: it is refused before
    its bytes are read, naming the budget and how to raise it."""
    from app.core.budget import ModelBudget
    from app.core.errors import ModelBudgetError

    path = tmp_path / "big.onnx"
    with open(path, "wb") as fh:
        fh.truncate(3 * 2**29)
    start = time.monotonic()
    expected = r"1,536 MB, more than its memory budget of 1,024 MB.*MEMORY_MB"
    with pytest.raises(ModelBudgetError, match=expected):
        SegmentationModel.load(path, device="cpu", budget=ModelBudget())
    assert time.monotonic() - start < 0.5


def test_the_scanner_never_fails_otherwise_on_any_bytes(tmp_path: Path) -> None:
    """Truncations and byte flips of a model with external data in a Loop body, and random bytes: a
    list of references or MalformedModel, never another exception (which would be a traceback)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from app.core.onnx_scan import MalformedModel, external_data_refs

    data = hostile.external_order_model(tmp_path / "m.onnx", "x.bin", "loop_body").read_bytes()

    def scan(blob: bytes) -> None:
        try:
            refs = external_data_refs(blob)
        except MalformedModel:
            return
        assert isinstance(refs, list)

    for cut in range(0, len(data), 7):
        scan(data[:cut])

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=400), st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255))))
    def fuzz(random: bytes, flips: list[tuple[int, int]]) -> None:
        scan(random)
        mutated = bytearray(data)
        for at, value in flips:
            mutated[at] = value
        scan(bytes(mutated))

    fuzz()
