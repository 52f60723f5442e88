"""Every mutation of `break_protections` still finds its text exactly once: code that moved (a module split,
a condition that grew) would otherwise leave a protection unchecked without anyone noticing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.break_protections import MUTATIONS, SRC


@pytest.mark.parametrize("mutation", [m for m in MUTATIONS if m[1]], ids=lambda m: m[0])
def test_the_mutation_applies_to_the_code_it_names(mutation) -> None:
    _name, path, old, new, _tests = mutation
    text = (Path(SRC) / path).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: the text to break occurs {text.count(old)} times, not once"
    assert old != new
