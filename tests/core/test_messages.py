"""Messages a user reads, in words: no "got 0.0", no parentheses inside parentheses."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import CorroscopeError
from app.core.files import encode_jpeg
from app.core.photos import read_image
from app.core.physical import check_scale
from app.core.synthetic import synthetic_pipe


def test_a_truncated_photo_is_said_without_nested_parentheses(tmp_path: Path) -> None:
    data = encode_jpeg(synthetic_pipe(seed=1, size=(60, 80))[0])
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) - 6])  # the decoder says "(N bytes not processed)"
    with pytest.raises(CorroscopeError) as info:
        read_image(path)
    text = str(info.value)
    assert "corrupt or truncated image" in text
    assert text.count("(") <= 1 and "))" not in text, text
    assert "bytes not processed" in text


def test_a_zero_scale_is_said_in_words() -> None:
    with pytest.raises(CorroscopeError) as info:
        check_scale(0.0)
    assert "got" not in str(info.value) and "(0 was given)" in str(info.value)
