"""The settings build.spec and scripts/build share: variants, requirements, what is kept or dropped."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "packaging" / "pyinstaller" / "corroscope_build.py"


def _load_helper():
    spec = importlib.util.spec_from_file_location("corroscope_build", HELPER)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corroscope_build", module)
    spec.loader.exec_module(module)
    return module


cb = _load_helper()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "cpu"),
        ({"CORROSCOPE_VARIANT": "gpu"}, "gpu"),
        ({"CORROSCOPE_VARIANT": " GPU "}, "gpu"),
        ({"CORROSCOPE_VARIANT": ""}, "cpu"),
        ({"CORROSCOPE_VARIANT": "cpu"}, "cpu"),
    ],
)
def test_variant_from_env(env, expected):
    assert cb.variant_from_env(env) == expected


@pytest.mark.parametrize("bad", ["cuda", "gpu12", "both"])
def test_unknown_variant_is_refused_with_the_choices(bad):
    with pytest.raises(cb.BuildConfigError, match="cpu, gpu"):
        cb.variant_from_env({"CORROSCOPE_VARIANT": bad})


def _names(reqs):
    return {cb.requirement_name(r) for r in reqs}


def test_cpu_requirements_have_plain_onnxruntime_only():
    reqs = cb.runtime_requirements(ROOT / "pyproject.toml", "cpu")
    names = _names(reqs)
    assert "onnxruntime" in names
    assert "onnxruntime-gpu" not in names
    assert not any(n.startswith("nvidia-") for n in names)


def test_cpu_build_takes_the_projects_onnxruntime_floor():
    """One place says which ONNX Runtime versions are safe: the frozen CPU build uses pyproject's floor."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    plain = next(d for d in deps if cb.requirement_name(d) == "onnxruntime")
    reqs = cb.runtime_requirements(ROOT / "pyproject.toml", "cpu")
    ort = [r for r in reqs if cb.requirement_name(r) == "onnxruntime"]
    assert ort == [plain.split(";")[0].strip()] and ort[0].startswith("onnxruntime>=1.2")


def test_gpu_requirements_bring_cuda13_and_cudnn9_wheels():
    reqs = cb.runtime_requirements(ROOT / "pyproject.toml", "gpu")
    assert "onnxruntime" not in _names(reqs)
    ort = next(r for r in reqs if cb.requirement_name(r) == "onnxruntime-gpu")
    assert "cuda" in ort and "cudnn" in ort and "1.31" in ort
    assert "nvidia-cublas" in _names(reqs)


@pytest.mark.parametrize("variant", ["cpu", "gpu"])
def test_every_other_runtime_dependency_is_kept(variant):
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    others = {cb.requirement_name(d) for d in deps} - cb.ORT_PACKAGES
    assert others, "pyproject lists runtime dependencies besides onnxruntime"
    assert others <= _names(cb.runtime_requirements(ROOT / "pyproject.toml", variant))


def test_requirement_name_normalises():
    assert cb.requirement_name("PySide6_Essentials>=6.6") == "pyside6-essentials"
    assert cb.requirement_name("onnxruntime-gpu[cuda,cudnn]~=1.31.0") == "onnxruntime-gpu"
    with pytest.raises(cb.BuildConfigError):
        cb.requirement_name(">=1.0")


def test_build_extra_has_pyinstaller():
    assert "pyinstaller" in _names(cb.build_requirements(ROOT / "pyproject.toml"))


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqminimal.so", True),
        ("PySide6\\plugins\\platforms\\qwindows.dll", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqtiff.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
        ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
        ("PySide6/Qt/plugins/qmltooling/libqmldbg_tcp.so", False),
        ("PySide6\\plugins\\styles\\qmodernwindowsstyle.dll", True),
        ("PySide6/Qt/lib/libQt6Quick.so.6", False),
        ("PySide6/Qt/lib/libQt6Qml.so.6", False),
        ("PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6", False),
        ("PySide6\\Qt6WebEngineCore.dll", False),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
        ("PySide6/Qt/lib/libQt6Gui.so.6", True),
        ("PySide6/Qt/translations/qtbase_de.qm", False),  # the app installs no QTranslator
        ("PySide6/Qt/translations/qtdeclarative_de.qm", False),
        ("PySide6\\opengl32sw.dll", False),
        ("cv2\\opencv_videoio_ffmpeg510_64.dll", False),
        ("cv2\\cv2.pyd", True),
        ("onnxruntime/capi/libonnxruntime_providers_tensorrt.so", False),
        ("onnxruntime/capi/libonnxruntime_providers_cuda.so", True),
        ("nvidia/cu13/lib/libcublasLt.so.13", True),
        ("nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9", True),
        ("nvidia/cu13/bin/x86_64/cudart64_13.dll", True),
        ("nvidia/cu13/lib/libnvblas.so.13", False),
        ("nvidia/cu13/lib/libcufftw.so.12", False),
        ("nvidia/cu13/lib/libnvJitLink.so.13", True),
        ("nvidia/cu13/lib/libnvrtc-builtins.so.13.5", True),
        ("nvidia/cu13/include/cublas_api.h", False),
        ("libcuda.so.1", False),
        ("tensorflow/libtensorflow_framework.so.2", False),
        ("cv2/cv2.abi3.so", True),
        ("PIL/_avif.cpython-311-x86_64-linux-gnu.so", False),
        ("PIL\\_avif.cp311-win_amd64.pyd", False),
        ("pillow.libs/libavif-c6062d5f.so.16.4.2", False),
        ("PIL/_imagingtk.cpython-311-x86_64-linux-gnu.so", False),
        ("PIL/_webp.cpython-311-x86_64-linux-gnu.so", True),  # WebP photos are read
        ("PIL/_imaging.cpython-311-x86_64-linux-gnu.so", True),
        ("pillow.libs/libwebp-51b0b3f7.so.7.2.0", True),
        ("opencv_python_headless.libs/libavif-24bb8032.so.16.4.2", True),  # cv2 links it
    ],
)
def test_keep_file(dest, kept):
    assert cb.keep_file(dest) is kept


def test_find_offences_names_files_and_modules():
    paths = [
        "_internal/cv2/cv2.abi3.so",
        "_internal/tensorflow/python/x.so",
        "_internal/libtensorflow_cc.so.2",
        "_internal/training/data.py",
        "_internal/PySide6/Qt/lib/libQt6Quick.so.6",
    ]
    modules = ["app.core.model", "keras.src.layers", "tf2onnx", "_pytest.main", "pytest", "trainingwheels"]
    found = {o.path for o in cb.find_offences(paths, modules)}
    assert found == {
        "_internal/tensorflow/python/x.so",
        "_internal/libtensorflow_cc.so.2",
        "_internal/training/data.py",
        "_internal/PySide6/Qt/lib/libQt6Quick.so.6",
        "keras.src.layers",
        "tf2onnx",
        "_pytest.main",
        "pytest",
    }


def test_excluded_modules_cover_the_forbidden_ones():
    assert set(cb.FORBIDDEN_MODULES) <= set(cb.EXCLUDED_MODULES)
    assert {"tensorflow", "keras", "tf2onnx", "pytest", "training"} <= set(cb.FORBIDDEN_MODULES)


def test_model_files_takes_every_onnx_and_the_card(tmp_path):
    for name in ("b.onnx", "a.onnx", "MODEL_CARD.md", "notes.txt", "a.onnx.data~"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.onnx").mkdir()
    assert [p.name for p in cb.model_files(tmp_path)] == ["MODEL_CARD.md", "a.onnx", "b.onnx"]
    assert cb.model_files(tmp_path / "missing") == []


def test_cpu_build_leaves_out_a_float_model_that_has_an_int8_variant(tmp_path):
    for name in ("net.onnx", "net.int8.onnx", "solo.onnx", "other.int8.onnx", "MODEL_CARD.md"):
        (tmp_path / name).write_bytes(b"x")
    cpu = [p.name for p in cb.model_files(tmp_path, "cpu")]
    assert cpu == ["MODEL_CARD.md", "net.int8.onnx", "other.int8.onnx", "solo.onnx"]
    gpu = [p.name for p in cb.model_files(tmp_path, "gpu")]
    assert gpu == ["MODEL_CARD.md", "net.int8.onnx", "net.onnx", "other.int8.onnx", "solo.onnx"]
    with pytest.raises(cb.BuildConfigError):
        cb.model_files(tmp_path, "tpu")


def test_the_app_picks_the_int8_model_where_the_cpu_build_has_only_it(tmp_path, monkeypatch):
    from app.core import model

    shipped = ROOT / "models"
    if not (shipped / "corrosion-deeplabv3plus-mobilenetv2.int8.onnx").is_file():
        pytest.fail("the shipped int8 model is missing from models/")
    for p in cb.model_files(shipped, "cpu"):
        (tmp_path / p.name).write_bytes(b"x")
    monkeypatch.setattr(model, "models_dir", lambda: tmp_path)
    for device in ("cpu", "auto", "cuda"):
        assert model.default_model_path(device).name.endswith(".int8.onnx")


def test_size_limit_fails_a_cpu_build_over_its_limit():
    limit = cb.SIZE_LIMITS["cpu"]
    assert limit == cb.SIZE_GOAL_CPU == 400_000_000  # the goal is the limit (398.3 MB measured)
    assert cb.size_offence(limit, "cpu") is None
    assert f"over its limit of {limit / 1e6:.0f} MB" in cb.size_offence(limit + 1, "cpu")
    assert cb.size_offence(3_000_000_000, "gpu") is None


def test_prune_orphan_libraries_follows_the_link_chain():
    links = {
        "/s/ext.so": ["libkept.so.1"],
        "/s/libkept.so.1": ["libc.so.6"],
        "/s/libplugin.so": ["libgtk.so.3"],  # a dropped plugin's library, left behind
        "/s/libgtk.so.3": ["libcairo.so.2"],
        "/s/libcairo.so.2": [],
        "/s/libpython3.11.so.1.0": [],
    }
    entries = [
        ("PIL/ext.so", "/s/ext.so", "EXTENSION"),
        ("libkept.so.1", "/s/libkept.so.1", "BINARY"),
        ("libgtk.so.3", "/s/libgtk.so.3", "BINARY"),
        ("libcairo.so.2", "/s/libcairo.so.2", "BINARY"),
        ("libpython3.11.so.1.0", "/s/libpython3.11.so.1.0", "BINARY"),
    ]
    kept, dropped = cb.prune_orphan_libraries(entries, links.get)
    assert sorted(dropped) == ["libcairo.so.2", "libgtk.so.3"]
    assert [e[0] for e in kept] == ["PIL/ext.so", "libkept.so.1", "libpython3.11.so.1.0"]


def test_prune_keeps_everything_when_a_link_list_is_unknown():
    entries = [("x.pyd", "/s/x.pyd", "EXTENSION"), ("liborphan.so", "/s/liborphan.so", "BINARY")]
    kept, dropped = cb.prune_orphan_libraries(entries, lambda src: None)
    assert kept == entries and dropped == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads an ELF file of this Python")
def test_elf_needed_reads_a_real_extension_module(tmp_path):
    import _ctypes

    needed = cb.elf_needed(Path(_ctypes.__file__))
    assert needed is not None
    assert any(n.startswith("libffi.so") for n in needed), needed  # _ctypes links libffi, whatever the build
    not_elf = tmp_path / "x.so"
    not_elf.write_bytes(b"MZ not an ELF file")
    assert cb.elf_needed(not_elf) is None


def test_size_report_and_duplicates(tmp_path):
    internal = tmp_path / "_internal"
    (internal / "PySide6" / "Qt" / "lib").mkdir(parents=True)
    (internal / "cv2").mkdir()
    (internal / "PySide6" / "Qt" / "lib" / "libbig.so").write_bytes(b"\0" * (3 << 20))
    (internal / "cv2" / "libbig.so").write_bytes(b"\0" * (3 << 20))
    (internal / "libpython.so").write_bytes(b"\0" * 1000)
    (tmp_path / "corroscope").write_bytes(b"\0" * 10)
    report = cb.size_report(tmp_path)
    assert report.total == 2 * (3 << 20) + 1010
    assert dict(report.parts) == {"PySide6/Qt": 3 << 20, "cv2": 3 << 20, "(files at the top)": 1010}
    assert report.files[0][1] == 3 << 20
    [group] = cb.duplicate_files(tmp_path)
    assert sorted(group) == ["_internal/PySide6/Qt/lib/libbig.so", "_internal/cv2/libbig.so"]


def test_spec_uses_the_shared_settings():
    tree = ast.parse((ROOT / "build.spec").read_text())
    calls = {
        f"{n.func.value.id}.{n.func.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
    }
    assert {
        "cb.variant_from_env",
        "cb.keep_file",
        "cb.find_offences",
        "cb.model_files",
        "cb.stage_user_guide",  # Help > User guide in the frozen program
    } <= calls
    analysis = next(
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Analysis"
    )
    kwargs = {k.arg: ast.unparse(k.value) for k in analysis.keywords}
    assert kwargs["excludes"] == "list(cb.EXCLUDED_MODULES)"
    assert "rthook_cuda.py" in kwargs["runtime_hooks"] and "gpu" in kwargs["runtime_hooks"]


def test_helper_command_line_prints_plain_requirement_lines():
    import subprocess

    run = subprocess.run(
        [sys.executable, str(HELPER), "requirements", "cpu"], capture_output=True, text=True, check=True
    )
    lines = run.stdout.splitlines()
    assert "\r" not in run.stdout
    assert lines == cb.runtime_requirements(ROOT / "pyproject.toml", "cpu")
    bad = subprocess.run(
        [sys.executable, str(HELPER), "variant"],
        capture_output=True,
        text=True,
        env={"CORROSCOPE_VARIANT": "tpu", "PATH": ""},
    )
    assert bad.returncode == 2 and "use one of cpu, gpu" in bad.stderr


def test_the_app_installs_no_qt_translator():
    """The build drops Qt's translations (QT_TRANSLATION_KEPT): an app that installs a QTranslator
    needs them kept again."""
    users = [p.name for p in (ROOT / "app").rglob("*.py") if "installTranslator" in p.read_text("utf-8")]
    assert users == [], f"{users} install a QTranslator: keep Qt's translations in the build"


def _png(path, size, colours=3000):
    """A photo-like RGB PNG of `size` with many colours (so quantizing has work to do)."""
    import numpy as np
    from PIL import Image

    w, h = size
    ramp = (np.arange(w * h, dtype=np.int64) * 2654435761 % colours).reshape(h, w)
    rgb = np.stack([ramp % 256, (ramp * 7) % 256, (ramp * 13) % 256], axis=-1).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


def test_stage_user_guide_copies_the_guide_and_reduces_its_images(tmp_path):
    from PIL import Image

    docs = tmp_path / "docs"
    guide = (
        "# Guide\n\n![The window](images/wide.png)\n\nText.\n\n1. A step\n   ![Small](images/small.png)\n"
        "\nSee [the other page](projects.md) and ![again](images/wide.png).\n"
    )
    docs.mkdir()
    (docs / "user-guide.md").write_bytes(guide.encode("utf-8"))
    (docs / "projects.md").write_text("# Projects\n\n![Tree](images/tree.png)\n", encoding="utf-8")
    _png(docs / "images" / "tree.png", (800, 400))
    _png(docs / "images" / "wide.png", (1400, 900))
    _png(docs / "images" / "small.png", (300, 200))
    _png(docs / "images" / "unlinked.png", (50, 50))
    stage = tmp_path / "build" / "guide"

    datas = cb.stage_user_guide(docs, stage)

    assert datas == [
        (str(stage / "user-guide.md"), "docs"),
        (str(stage / "projects.md"), "docs"),  # a page the guide links, and the image it links
        (str(stage / "images" / "wide.png"), "docs/images"),
        (str(stage / "images" / "small.png"), "docs/images"),
        (str(stage / "images" / "tree.png"), "docs/images"),
    ]
    assert (stage / "user-guide.md").read_bytes() == (docs / "user-guide.md").read_bytes()
    assert not (stage / "images" / "unlinked.png").exists()
    with (
        Image.open(stage / "images" / "wide.png") as wide,
        Image.open(stage / "images" / "small.png") as small,
    ):
        assert wide.size == (cb.GUIDE_IMAGE_WIDTH, 450)
        assert small.size == (300, 200)  # never enlarged
        assert wide.mode == small.mode == "P"
        assert len(wide.getcolors(1 << 16)) <= 256
    assert cb.GUIDE_IMAGE_WIDTH <= 700


def test_stage_user_guide_refuses_a_missing_image(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "user-guide.md").write_text("![a](images/here.png) ![b](images/gone.png)\n", encoding="utf-8")
    _png(docs / "images" / "here.png", (20, 20))
    with pytest.raises(cb.BuildConfigError, match=r"images/gone\.png"):
        cb.stage_user_guide(docs, tmp_path / "stage")
    (docs / "user-guide.md").write_text("![a](images/here.png) [b](gone.md#part)\n", encoding="utf-8")
    with pytest.raises(cb.BuildConfigError, match=r"pages that are missing: gone\.md"):
        cb.stage_user_guide(docs, tmp_path / "stage")


def test_the_real_guide_stages_every_image_it_links_under_3_mb(tmp_path):
    from PIL import Image

    from app.ui.help_dialogs import GUIDE_IMAGE_WIDTH

    assert cb.GUIDE_IMAGE_WIDTH == GUIDE_IMAGE_WIDTH
    text = (ROOT / "docs" / "user-guide.md").read_text("utf-8")
    pages = ["user-guide.md", *cb.guide_pages(text)]
    assert {"projects.md", "reliability.md", "performance.md"} <= set(pages)  # its links lead somewhere
    links = list(
        dict.fromkeys(
            link for page in pages for link in cb.guide_images((ROOT / "docs" / page).read_text("utf-8"))
        )
    )
    assert len(links) >= 20
    datas = cb.stage_user_guide(ROOT / "docs", tmp_path)
    staged = {Path(src).relative_to(tmp_path).as_posix(): dest for src, dest in datas}
    assert staged == {**{page: "docs" for page in pages}, **{link: "docs/images" for link in links}}
    total = 0
    for link in links:
        with Image.open(tmp_path / link) as image:
            assert image.width <= GUIDE_IMAGE_WIDTH and image.mode == "P", link
        total += (tmp_path / link).stat().st_size
    assert total < 3_000_000, f"the staged screenshots are {total / 1e6:.1f} MB"


@pytest.mark.parametrize("variant", ["cpu", "gpu"])
def test_the_build_brings_the_team_driver_without_its_own_libpq(variant):
    reqs = cb.runtime_requirements(ROOT / "pyproject.toml", variant)
    driver = [r for r in reqs if cb.requirement_name(r) == "psycopg"]
    assert driver == ["psycopg>=3.1"], "the pure-Python psycopg: the binary wheel's libraries are 10 MB"
    assert not any("psycopg-binary" in r or "[binary]" in r for r in reqs)
    assert set(cb.TEAM_HIDDEN_IMPORTS) == {"psycopg", "sqlalchemy.dialects.postgresql.psycopg"}
