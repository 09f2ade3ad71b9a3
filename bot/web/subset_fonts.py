"""Build the web chat's fonts: Noto subsets for Ge'ez (Tigrinya), Arabic script, emoji and
symbols.

A cheap phone often has a Latin font only: it shows ትግርኛ, فارسی and every emoji as empty
boxes. The web chat ships small WOFF2 subsets instead, each loaded only when a page uses its
characters (CSS unicode-range, the same ranges as FACES here). The script subsets keep whole
blocks, because names and a coach's free text use letters the catalogs do not; the emoji
and symbol subsets hold the characters the catalogs, templates, code and demo content use
(`used_text()`), plus a few a coach types often. tests/test_fonts.py fails when a used
character is missing from the shipped fonts. Run by hand after adding strings or emoji, with
Debian's fonts-noto-core and fonts-noto-color-emoji (or their files unpacked in NOTO_DIR)
and `pip install fonttools brotli`:

    python -m bot.web.subset_fonts [NOTO_DIR]

The fonts are Noto (SIL Open Font License 1.1, see static/fonts/OFL.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

NOTO = Path("/usr/share/fonts/truetype/noto")
OUT = Path(__file__).parent / "static" / "fonts"
ROOT = Path(__file__).parents[2]

# The CSS unicode-range of each face, exactly as in templates/chat.html.
ETHIOPIC = "U+1200-139F, U+2D80-2DDF, U+AB00-AB2F"
ARABIC = "U+0600-06FF, U+0750-077F, U+08A0-08FF, U+FB50-FDFF, U+FE70-FEFF"
EMOJI = "U+2190-2BFF, U+1F000-1FAFF, U+FE0F, U+200D"
# Symbols Noto Color Emoji does not draw (✓ ☰ ➤): the next face in the stack draws them.
SYMBOLS = "U+2190-2BFF"
FACES = {
    "ethiopic.woff2": ("NotoSansEthiopic-Regular.ttf", ETHIOPIC),
    "arabic.woff2": ("NotoSansArabic-Regular.ttf", ARABIC),
    "emoji.woff2": ("NotoColorEmoji.ttf", EMOJI),
    "symbols.woff2": ("NotoSansSymbols2-Regular.ttf", SYMBOLS),
}
# The symbol face merges these, each symbol from the first that has it.
SYMBOL_SOURCES = (
    "NotoSansSymbols2-Regular.ttf",
    "NotoSansSymbols-Regular.ttf",
    "NotoSansMath-Regular.ttf",
    "NotoSans-Regular.ttf",
)
# Emoji a coach or a participant types often, beyond those the texts use.
TYPED = "👍🙂😊🙏❤️✅❌🔁📅📍🕒👤📚🗓🏁⏭🔔🔕🌐🔒❓⏰📢📤✖✍️🌍👥🧩📊🔌⚠️➕➖🇩🇪👋😀😂🤝🎉📝📞🏠🚌🚆"
# Drawn by no font: variation selectors, joiners, bidi controls.
INVISIBLE = {0xFE0E, 0xFE0F, 0x200D, *range(0x200B, 0x2010), *range(0x2060, 0x2070), 0xFEFF}


def ranges(css: str) -> list[tuple[int, int]]:
    """The code point ranges of a CSS unicode-range value."""
    found = []
    for part in css.split(","):
        low, _, high = part.strip().removeprefix("U+").partition("-")
        found.append((int(low, 16), int(high or low, 16)))
    return found


def in_ranges(char: str, css: str) -> bool:
    """Whether the browser takes `char` from a face with this unicode-range."""
    return any(low <= ord(char) <= high for low, high in ranges(css))


def used_text() -> str:
    """Every character the catalogs, the templates, the code and the demo content use."""
    paths = [
        *ROOT.glob("locales/*/LC_MESSAGES/*.po"),
        *(Path(__file__).parent / "templates").glob("**/*.html"),
        *(ROOT / "bot").glob("**/*.py"),
    ]
    found = set(TYPED)
    for path in paths:
        found.update(path.read_text(encoding="utf-8"))
    return "".join(sorted(found))


def wanted(name: str, text: str) -> str:
    """The visible characters of `text` that face `name` is asked to draw."""
    css = FACES[name][1]
    return "".join(c for c in text if ord(c) not in INVISIBLE and in_ranges(c, css))


def cmap(path: Path) -> set[int]:
    """The code points a font file draws."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return set(font.getBestCmap())


def main(argv: list[str]) -> int:
    """Write the subsets into static/fonts; 1 if a source font or a glyph is missing."""
    from fontTools import subset

    noto = Path(argv[0]) if argv else NOTO
    for source in [*(source for source, _css in FACES.values()), *SYMBOL_SOURCES]:
        if not (noto / source).exists():
            print(
                f"missing {noto / source}: apt-get install fonts-noto-core fonts-noto-color-emoji"
            )
            return 1
    text = used_text()
    emoji = cmap(noto / FACES["emoji.woff2"][0])
    selections = {
        "ethiopic.woff2": "--unicodes=" + ETHIOPIC.replace(" ", ""),
        "arabic.woff2": "--unicodes=" + ARABIC.replace(" ", ""),
        "emoji.woff2": "--text="
        + "".join(c for c in wanted("emoji.woff2", text) if ord(c) in emoji),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, selection in selections.items():
        subset.main(
            [
                str(noto / FACES[name][0]),
                selection,
                "--layout-features=*",
                "--flavor=woff2",
                f"--output-file={OUT / name}",
            ]
        )
    symbols = "".join(c for c in wanted("symbols.woff2", text) if ord(c) not in emoji)
    _merged_symbols(noto, symbols, OUT / "symbols.woff2")
    for name in FACES:
        print(f"{name}: {(OUT / name).stat().st_size // 1024} KiB")
    shipped = {name: cmap(OUT / name) for name in FACES}
    missing = missing_glyphs(text, shipped)
    if missing:
        print("no font draws: " + " ".join(f"{c} U+{ord(c):04X}" for c in missing))
        return 1
    return 0


def _merged_symbols(noto: Path, text: str, out: Path) -> None:
    """One face for the symbols: each from the first of SYMBOL_SOURCES that draws it."""
    import tempfile

    from fontTools import subset
    from fontTools.merge import Merger

    left, parts = set(text), []
    with tempfile.TemporaryDirectory() as tmp:
        for number, source in enumerate(SYMBOL_SOURCES):
            take = "".join(sorted(c for c in left if ord(c) in cmap(noto / source)))
            if not take:
                continue
            part = f"{tmp}/{number}.ttf"
            subset.main(
                [
                    str(noto / source),
                    "--text=" + take,
                    "--layout-features=*",
                    "--no-hinting",
                    f"--output-file={part}",
                ]
            )
            parts.append(part)
            left -= set(take)
        merged = Merger().merge(parts)
        merged.flavor = "woff2"
        merged.save(str(out))


def missing_glyphs(text: str, shipped: dict[str, set[int]]) -> list[str]:
    """The characters of `text` in a face's range that no shipped face in that range draws."""
    missing = []
    for char in sorted(set(text)):
        faces = [name for name in FACES if wanted(name, char)]
        if faces and not any(ord(char) in shipped[name] for name in faces):
            missing.append(char)
    return missing


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
