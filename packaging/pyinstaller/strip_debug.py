"""Strip the debug symbols from the ELF libraries of a built folder, keeping any library that stripping
would leave unloadable: `python strip_debug.py dist/corroscope`.

PyInstaller's own `strip=True` strips every binary, and binutils' `strip` rewrites the load segments of
some wheel libraries that patchelf edited (numpy's OpenBLAS) so that the loader refuses them ("ELF load
command address/offset not page-aligned"). Here each file is stripped as a copy, the copy's load
segments are checked as the loader checks them, and only a sound, smaller copy replaces the file.
Linux only; without binutils' `strip` it says so and changes nothing.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = 4096
PT_LOAD = 1
DEBUG_SECTION = b".debug_info"


def is_elf64(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(5)
    return head[:4] == b"\x7fELF" and head[4:5] == b"\x02"


def loads_page_aligned(path: Path) -> bool:
    """Whether every load segment of an ELF64 file maps at a page-aligned offset (glibc's own check)."""
    with path.open("rb") as f:
        head = f.read(64)
        (phoff,) = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, _filesz, _memsz, align = struct.unpack_from(
            "<IIQQQQQQ", table, i * phentsize
        )
        if p_type == PT_LOAD and (align < PAGE or (vaddr - offset) % PAGE):
            return False
    return True


def has_debug_info(path: Path) -> bool:
    with path.open("rb") as f:
        return DEBUG_SECTION in f.read()


def strip_one(path: Path, strip: str, scratch: Path) -> int:
    """Bytes saved by stripping `path` in place (0 when it had nothing to strip or the result was unsound)."""
    if not (path.is_file() and not path.is_symlink() and is_elf64(path) and has_debug_info(path)):
        return 0
    copy = scratch / "candidate"
    shutil.copy2(path, copy)
    done = subprocess.run([strip, "--strip-debug", str(copy)], capture_output=True)
    saved = path.stat().st_size - copy.stat().st_size
    if done.returncode != 0 or saved <= 0 or not loads_page_aligned(copy):
        return 0
    os.replace(copy, path)
    return saved


def strip_folder(folder: Path) -> tuple[int, int]:
    """(bytes saved, files stripped) over every file under `folder`."""
    strip = shutil.which("strip")
    if strip is None:
        print("strip_debug: binutils' strip is not installed; nothing stripped", file=sys.stderr)
        return 0, 0
    saved = count = 0
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        for path in sorted(folder.rglob("*")):
            gain = strip_one(path, strip, Path(tmp))
            saved += gain
            count += gain > 0
    return saved, count


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    saved, count = strip_folder(Path(argv[0]))
    print(f"debug symbols stripped from {count} libraries: {saved / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
