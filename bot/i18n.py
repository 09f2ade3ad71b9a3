"""Languages, gettext catalogs and the per-participant translator.

Catalogs live in `locales/<lang>/LC_MESSAGES/messages.po` (the bot) and `admin.po` (the
staff web, German and English only); in a checkout the `.mo` files are compiled from
them on first use when missing or older than the `.po`, so a fresh clone needs no manual step.
A wheel carries them as `bot/locales`, compiled when it was built (setup.py).
A message missing in a catalog falls back to English, then German, never to a message id.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

# An installed wheel has its catalogs, compiled, inside the package; a checkout (and an
# editable install) has them at the top, where pybabel works on them.
PACKAGED_LOCALES = Path(__file__).parent / "locales"
LOCALES_DIR = Path(
    os.environ.get("WEGWEISER_LOCALES_DIR")
    or (PACKAGED_LOCALES if PACKAGED_LOCALES.is_dir() else Path(__file__).parents[1] / "locales")
)
DOMAIN = "messages"
ADMIN_DOMAIN = "admin"
ADMIN_LANGUAGES = ("de", "en")  # the staff web: German first, English second
FALLBACK_CHAIN = ("en", "de")

# Unicode isolates keep left-to-right pieces (addresses, times, names) intact in RTL text:
# FSI takes the direction of the piece's first letter, LRI is always left to right.
FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"
# A command such as "/privacy" in a translated sentence (not part of a link or path).
_COMMAND = re.compile(r"(?<![A-Za-z0-9/:.\u2066\u2068])/[a-z_]+\b")
# Strong right-to-left letters: Hebrew, Arabic script and their presentation forms.
_RTL = re.compile(r"[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]")


def each_line_isolated(text: str, opening: str) -> str:
    """Each non-empty line of `text` between `opening` (FSI or LRI) and PDI: an isolate
    ends at a line break."""
    lines = text.split("\n")
    return "\n".join(f"{opening}{line}{PDI}" if line.strip() else line for line in lines)


@dataclass(frozen=True)
class Language:
    """A supported language: catalog code, native name, text direction."""

    code: str
    native_name: str
    rtl: bool = False


# The order of the language menu: the most common first languages in the programme first.
LANGUAGES: tuple[Language, ...] = (
    Language("ar", "العربية", rtl=True),
    Language("fa", "فارسی", rtl=True),
    Language("fa_AF", "دری", rtl=True),
    Language("ps", "پښتو", rtl=True),
    Language("ku", "Kurmancî"),
    Language("ckb", "کوردی (سۆرانی)", rtl=True),  # Sorani, told apart from Kurmancî
    Language("tr", "Türkçe"),
    Language("uk", "Українська"),
    Language("ru", "Русский"),
    Language("ti", "ትግርኛ"),
    Language("so", "Soomaali"),
    Language("fr", "Français"),
    Language("en", "English"),
    Language("de", "Deutsch"),
    # Plain German for participants who are learning it: short sentences, common words.
    Language("de_simple", "Einfaches Deutsch"),
)
BY_CODE = {language.code: language for language in LANGUAGES}
DEFAULT = "en"


def match_language(code: str | None) -> str | None:
    """Map a client language code (Telegram's `language_code`, `fa-AF`, `pt-BR`) to ours."""
    if not code:
        return None
    normalized = code.replace("-", "_")
    parts = normalized.split("_")
    if len(parts) > 1:
        candidate = f"{parts[0].lower()}_{parts[1].upper()}"
        if candidate in BY_CODE:
            return candidate
    base = parts[0].lower()
    if base == "prs":  # ISO 639-3 code for Dari
        return "fa_AF"
    if base == "kmr":  # ISO 639-3 code for Kurmanji
        return "ku"
    return base if base in BY_CODE else None


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> int:
    """Compile every `.po` whose `.mo` is missing or stale; return how many were written.

    An installed wheel's catalogs were compiled when it was built (setup.py) and are left
    alone: site-packages may be read-only, and unpacking gives no reliable file times."""
    if locales_dir == PACKAGED_LOCALES:
        return 0
    written = 0
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        for message in list(catalog):
            # A plural entry with an empty form would print nothing; let it fall back instead.
            if message.id and isinstance(message.string, tuple) and not all(message.string):
                del catalog[message.id]
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        tmp_path.replace(mo_path)  # atomic, so parallel starts never read half a file
        written += 1
    if written:
        log.info("compiled %d message catalogs", written)
    return written


@cache
def translator(code: str) -> Translator:
    """The translator for a language code, with the English→German fallback chain."""
    compile_catalogs()
    # Einfaches Deutsch falls back to German first; everyone else to English, then German.
    order = ("de", "en") if code.startswith("de") else FALLBACK_CHAIN
    chain = [code, *(c for c in order if c != code)]
    head, *fallbacks = [Translations.load(str(LOCALES_DIR), [c], DOMAIN) for c in chain]
    for fallback in fallbacks:
        head.add_fallback(fallback)
    return Translator(code, head)


class Translator:
    """gettext for one language, plus the locale facts formatting needs."""

    def __init__(self, code: str, translations: NullTranslations) -> None:
        self.code = code
        self.language = BY_CODE.get(code, BY_CODE[DEFAULT])
        self.locale = Locale.parse(code)
        self._translations = translations

    @property
    def rtl(self) -> bool:
        """True for right-to-left languages."""
        return self.language.rtl

    def gettext(self, message: str) -> str:
        """Translate one message."""
        return self.commands_isolated(self._translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a count, using the language's plural rules."""
        return self.commands_isolated(self._translations.ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> str:
        """Translate a message with a disambiguating context."""
        return self.commands_isolated(self._translations.pgettext(context, message))

    def commands_isolated(self, text: str) -> str:
        """In right-to-left text each command ("/privacy") left-to-right isolated, so its
        slash stays in front instead of showing as "privacy/"."""
        if not self.rtl or "/" not in text:
            return text
        return _COMMAND.sub(lambda found: f"{LRI}{found.group()}{PDI}", text)

    def isolate_lines(self, text: str) -> str:
        """Free text written by someone else (a coach's answer, a broadcast) inside a
        right-to-left message: each line isolated on its own, taking the direction of its
        first letter, so "10:30 Uhr am 7.12., Raum 108." reads as written. An isolate ends
        at a line break, hence one per line."""
        if not self.rtl:
            return text
        return each_line_isolated(text, FSI)

    def isolate(self, text: str) -> str:
        """Bidi-isolate an embedded piece (address, time, name): in right-to-left text, and
        in left-to-right text when the piece itself is right-to-left (an Arabic-script name
        at the start of a German notice would otherwise turn the whole line around)."""
        return f"{FSI}{text}{PDI}" if self.rtl or _RTL.search(text) else text


@cache
def admin_translator(code: str) -> Translator:
    """The staff web's translator: German unless the staff user chose English."""
    compile_catalogs()
    code = code if code in ADMIN_LANGUAGES else ADMIN_LANGUAGES[0]
    translations = Translations.load(str(LOCALES_DIR), [code], ADMIN_DOMAIN)
    return Translator(code, translations)


def A_(message: str) -> str:
    """Mark a message of the staff web (the `admin` domain) for extraction."""
    return message


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message
