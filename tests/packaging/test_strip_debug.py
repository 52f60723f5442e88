"""The build's debug-symbol strip: smaller libraries that still load, and never a library the loader
would refuse (binutils' plain strip breaks numpy's patchelf-edited OpenBLAS that way)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging" / "pyinstaller"))
import strip_debug  # noqa: E402

STRIP = shutil.which("strip")
needs_strip = pytest.mark.skipif(
    STRIP is None or sys.platform != "linux", reason="binutils' strip on Linux (CI installs binutils)"
)


def _openblas() -> Path:
    libs = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("*openblas*.so"))
    if not libs:
        pytest.skip("this numpy wheel has no bundled OpenBLAS")
    return libs[0]


@needs_strip
def test_the_segment_check_sees_what_a_plain_strip_does_to_numpys_openblas(tmp_path: Path) -> None:
    copy = tmp_path / "openblas.so"
    shutil.copy2(_openblas(), copy)
    assert strip_debug.loads_page_aligned(copy)
    subprocess.run([STRIP, str(copy)], check=True)
    assert not strip_debug.loads_page_aligned(copy)  # what made the frozen program refuse to start


@needs_strip
def test_a_library_with_debug_info_is_stripped_and_still_loads(tmp_path: Path) -> None:
    source = tmp_path / "probe.c"
    source.write_text("int corroscope_probe(void) { return 42; }\n")
    lib = tmp_path / "libprobe.so"
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to make a library with debug info")
    subprocess.run([cc, "-g", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    before = lib.stat().st_size
    saved, count = strip_debug.strip_folder(tmp_path)
    assert count == 1 and saved == before - lib.stat().st_size > 0
    assert not strip_debug.has_debug_info(lib) and strip_debug.loads_page_aligned(lib)
    code = f"import ctypes; print(ctypes.CDLL({str(lib)!r}).corroscope_probe())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "42", done.stderr


def test_files_that_are_not_elf_libraries_are_left_alone(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"\x7fELF but text .debug_info")
    assert strip_debug.strip_one(text, STRIP or "strip", tmp_path) == 0
    assert text.read_bytes() == b"\x7fELF but text .debug_info"
