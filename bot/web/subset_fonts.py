"""Build the web chat's fonts: Noto subsets for Ge'ez (Tigrinya), Arabic script and emoji.

A stock phone or desktop without these fonts shows ትግርኛ, فارسی and every emoji as empty
boxes. The web chat ships small WOFF2 subsets instead, each loaded only when a page uses
its characters (CSS unicode-range). Run by hand after adding strings or emoji, on a machine
with Debian's fonts-noto-core and fonts-noto-color-emoji and `pip install fonttools brotli`:

    python -m bot.web.subset_fonts

The fonts are Noto (SIL Open Font License 1.1, see static/fonts/OFL.txt).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NOTO = Path("/usr/share/fonts/truetype/noto")
OUT = Path(__file__).parent / "static" / "fonts"
ROOT = Path(__file__).parents[2]

ETHIOPIC = "U+1200-137F,U+1380-139F,U+2D80-2DDF,U+AB00-AB2F"
ARABIC = "U+0600-06FF,U+0750-077F,U+08A0-08FF,U+FB50-FDFF,U+FE70-FEFF,U+200C-200F,U+2066-2069"
FONTS = {
    "ethiopic.woff2": ("NotoSansEthiopic-Regular.ttf", ETHIOPIC),
    "arabic.woff2": ("NotoSansArabic-Regular.ttf", ARABIC),
}
EMOJI_SOURCE = "NotoColorEmoji.ttf"
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2190-\u21ff\u2300-\u23ff\u25a0-\u25ff\u2b00-\u2bff"
    "\u2700-\u27bf\ufe0f\u200d]"
)


def used_emoji() -> str:
    """Every emoji in the code and the catalogs, plus the ones a coach may type often."""
    found: set[str] = set("👍🙂😊🙏❤️✅❌🔁📅📍🕒👤📚🗓🏁⏭🔔🔕☰🌐🔒❓⏰📢📤✖✍️🌍👥🧩📊🔌⚠️➕➖🇩🇪")
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("locales/*/LC_MESSAGES/*.po")]:
        found.update(_EMOJI.findall(path.read_text(encoding="utf-8")))
    return "".join(sorted(found))


def main() -> int:
    """Write the subsets into static/fonts; 1 if a source font is missing."""
    from fontTools import subset

    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [(name, source, ["--unicodes=" + ranges]) for name, (source, ranges) in FONTS.items()]
    jobs.append(("emoji.woff2", EMOJI_SOURCE, ["--text=" + used_emoji()]))
    for name, source, selection in jobs:
        path = NOTO / source
        if not path.exists():
            print(f"missing {path}: apt-get install fonts-noto-core fonts-noto-color-emoji")
            return 1
        subset.main(
            [
                str(path),
                *selection,
                "--layout-features=*",
                "--flavor=woff2",
                f"--output-file={OUT / name}",
            ]
        )
        print(f"{name}: {(OUT / name).stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
