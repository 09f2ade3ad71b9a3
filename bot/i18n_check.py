"""Catalog checks and the translation coverage report: `python -m bot.i18n_check`.

A catalog fails when an entry of the template is missing, empty, fuzzy or obsolete, when a
plural entry lacks a form, when its {placeholders} differ from the msgid's, or when it is
too long for a Telegram message once its placeholders are filled (half of 4,096).
Also `wegweiser i18n report`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.i18n import ADMIN_DOMAIN, ADMIN_LANGUAGES, DOMAIN, LANGUAGES, LOCALES_DIR

PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


@dataclass
class Coverage:
    """How complete one language's catalog is."""

    code: str
    total: int = 0
    translated: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        """Share of template entries translated, 0-100."""
        return 100.0 * self.translated / self.total if self.total else 100.0


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _texts(value: object) -> tuple[str, ...]:
    """A msgid or msgstr as a tuple of strings (plural entries have several)."""
    if isinstance(value, (tuple, list)):
        return tuple(str(item or "") for item in value)
    return (str(value or ""),)


def _key(message: Message) -> object:
    return (message.context, message.id) if message.context else message.id


TELEGRAM_LIMIT = 4096  # characters in one message; a translation must fit with room to spare
LONGEST = TELEGRAM_LIMIT // 2  # placeholders (a list, an address) are filled in later


def check_language(
    code: str, template: Catalog, locales_dir: Path = LOCALES_DIR, domain: str = DOMAIN
) -> Coverage:
    """Compare one language's catalog of a domain with the domain's template."""
    name = code if domain == DOMAIN else f"{code}/{domain}"
    coverage = Coverage(name, total=len([m for m in template if m.id]))
    path = locales_dir / code / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        coverage.problems.append(f"{code}: no catalog at {path}")
        return coverage
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=code)
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        label = (message.id if isinstance(message.id, str) else message.id[0])[:50]
        if found is None:
            coverage.problems.append(f"{code}: missing {label!r}")
            continue
        strings = _texts(found.string)
        if found.fuzzy:
            coverage.problems.append(f"{code}: fuzzy {label!r}")
            continue
        if not all(strings) or (
            isinstance(message.id, tuple) and len(strings) != catalog.num_plurals
        ):
            coverage.problems.append(f"{code}: untranslated {label!r}")
            continue
        if any(len(string) > LONGEST for string in strings):
            coverage.problems.append(f"{code}: longer than {LONGEST} characters {label!r}")
            continue
        expected = _placeholders(_texts(message.id)[-1])
        for string in strings:
            if _placeholders(string) != expected and not (
                # A language with one plural form may drop {n} in the singular-only form.
                isinstance(message.id, tuple) and set(_placeholders(string)) <= set(expected)
            ):
                coverage.problems.append(
                    f"{code}: placeholders {_placeholders(string)} != {expected} in {label!r}"
                )
                break
        else:
            coverage.translated += 1
    template_keys = {_key(m) for m in template if m.id}
    for message in catalog:
        if message.id and _key(message) not in template_keys:
            coverage.problems.append(f"{code}: obsolete {str(message.id)[:50]!r}")
    return coverage


def check_all(locales_dir: Path = LOCALES_DIR) -> list[Coverage]:
    """Coverage of every supported language against `locales/messages.pot`, and of the
    staff web's German and English against `locales/admin.pot`."""
    results: list[Coverage] = []
    for domain, codes in (
        (DOMAIN, [language.code for language in LANGUAGES]),
        (ADMIN_DOMAIN, list(ADMIN_LANGUAGES)),
    ):
        with (locales_dir / f"{domain}.pot").open("rb") as pot:
            template = read_po(pot)
        results.extend(check_language(code, template, locales_dir, domain) for code in codes)
    return results


def fill_english(locales_dir: Path = LOCALES_DIR, domain: str = DOMAIN) -> int:
    """Copy msgids into empty English entries (the msgids are English); return how many."""
    path = locales_dir / "en" / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(_texts(message.string)):
                message.string = (message.id[0], message.id[1])
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with path.open("wb") as po_file:
        write_po(po_file, catalog, width=79, omit_header=False, sort_output=True)
    return filled


def extract_admin(target: Path, root: Path = LOCALES_DIR.parent) -> int:
    """Write the staff web's template: A_() under bot/ plus _() in its templates; how many
    messages. (The bot's `_` calls must stay out, so the two are extracted apart.)"""
    from babel.messages.extract import extract_from_dir

    catalog = Catalog()
    python = extract_from_dir(
        str(root / "bot"), keywords={"A_": None}, comment_tags=("TRANSLATORS:",)
    )
    html = extract_from_dir(
        str(root),
        method_map=[("bot/web/templates/admin/**.html", "jinja2")],
        comment_tags=("TRANSLATORS:",),
    )
    for _filename, _lineno, message, comments, context in [*python, *html]:
        if message and message not in catalog:
            catalog.add(message, auto_comments=comments, context=context)
    with target.open("wb") as pot:
        write_po(pot, catalog, width=79, omit_header=True, sort_output=True, no_location=True)
    return len(catalog)


def main() -> int:
    """Print the coverage report; exit 1 when any catalog has a problem."""
    if "--extract-admin" in sys.argv:
        print(f"admin: {extract_admin(LOCALES_DIR / 'admin.pot')} messages")
        return 0
    if "--fill-english" in sys.argv:
        for domain in (DOMAIN, ADMIN_DOMAIN):
            print(f"en/{domain}: filled {fill_english(domain=domain)} entries from their msgids")
    results = check_all()
    for coverage in results:
        print(
            f"{coverage.code:9} {coverage.translated:4}/{coverage.total:<4} "
            f"{coverage.percent:5.1f}%  {len(coverage.problems)} problems"
        )
    problems = [p for c in results for p in c.problems]
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
