"""The fonts the web chat ships draw every character the texts use (bot/web/subset_fonts.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.web import subset_fonts
from bot.web.subset_fonts import FACES, OUT, cmap, missing_glyphs, used_text

CHAT = Path(subset_fonts.__file__).parent / "templates" / "chat.html"
# Missing from the emoji subset before #20, used by the catalogs and the chat page.
ONCE_MISSING = "🧭🙋🗑📞🔗📎✉☰↩⬅✓➤"


@pytest.fixture(scope="module")
def shipped() -> dict[str, set[int]]:
    """The code points each shipped font file draws, read from its cmap."""
    pytest.importorskip("fontTools", reason="pip install fonttools brotli (the test extra)")
    return {name: cmap(OUT / name) for name in FACES}


def test_every_used_character_is_in_the_shipped_fonts(shipped):
    text = used_text()
    assert set(ONCE_MISSING) <= set(text)
    assert missing_glyphs(text, shipped) == []
    for char in ONCE_MISSING:
        assert any(ord(char) in shipped[name] for name in ("emoji.woff2", "symbols.woff2")), char


def test_a_missing_glyph_is_found(shipped):
    """The check itself: a character a face should draw but does not is reported."""
    without_compass = {**shipped, "emoji.woff2": shipped["emoji.woff2"] - {ord("🧭")}}
    assert missing_glyphs("Hallo 🧭 ትግርኛ", without_compass) == ["🧭"]
    no_ethiopic = {**shipped, "ethiopic.woff2": set()}
    assert missing_glyphs("ትግ", no_ethiopic) == ["ት", "ግ"]


def test_the_chat_page_loads_each_face_with_the_ranges_it_was_built_for():
    css = CHAT.read_text(encoding="utf-8")
    faces = dict(
        re.findall(
            r'url\("/static/fonts/([\w.]+)"\) format\("woff2"\);\s*unicode-range: ([^;]+);', css
        )
    )
    assert faces == {name: ranges for name, (_source, ranges) in FACES.items()}
    # Buttons and the input line take the page's font, not the browser's Arial.
    assert "button, input { font: inherit; }" in css
