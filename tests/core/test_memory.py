"""Freed memory goes back to the system: on glibc, pages freed between allocations still held stay in
the process until `release_free_memory` returns them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core.memory import release_free_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, /proc")


def _rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def test_pages_freed_between_kept_blocks_go_back_to_the_system() -> None:
    # 64 KiB blocks come from the heap (under glibc's 128 KiB mmap threshold); every tenth is kept, as a
    # batch keeps a small row per photo between each photo's large, short-lived buffers
    blocks = [bytearray(64 * 1024) for _ in range(3000)]  # ~190 MB, touched (zeroed)
    kept = blocks[::10]
    del blocks
    before = _rss_mb()
    assert release_free_memory() is True
    after = _rss_mb()
    assert before - after > 100, f"{before:.0f} -> {after:.0f} MB"
    assert len(kept) == 300 and all(len(b) == 64 * 1024 for b in kept)  # what is held is untouched
