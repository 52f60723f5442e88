"""The one rule for text a user types (`app.core.text.typed_problem`)."""

from __future__ import annotations

from app.core.text import typed_problem


def test_typed_text_holding_a_replacement_character_is_refused() -> None:
    """U+FFFD stands for bytes that were not text (a settings file or a paste in Latin-1): a tag, a header
    or a reviewer's name holding it is not what was meant."""
    assert "U+FFFD" in typed_problem("Jos\ufffd M\ufffdller", "The name")
    assert typed_problem("José Müller", "The name") is None
