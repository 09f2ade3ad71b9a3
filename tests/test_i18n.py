"""Catalogs: complete, placeholders intact, template in sync with the code, fallbacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR, match_language, translator
from bot.i18n_check import check_all, extract_admin

ROOT = Path(__file__).parents[1]


def test_every_catalog_is_complete_with_matching_placeholders():
    results = check_all()
    expected = {language.code for language in LANGUAGES} | {"de/admin", "en/admin"}
    assert {c.code for c in results} == expected
    problems = [problem for coverage in results for problem in coverage.problems]
    assert problems == [], "\n".join(problems[:40])


def test_template_matches_the_code(tmp_path):
    """Re-extract the messages: the committed template must not have drifted."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "label",
            "--add-comments=TRANSLATORS:",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    def ids(path: Path) -> set[object]:
        with path.open("rb") as handle:
            return {m.id for m in read_po(handle) if m.id}

    committed = ids(LOCALES_DIR / "messages.pot")
    extracted = ids(fresh)
    assert extracted - committed == set(), "run ./locales/update.sh: new strings"
    assert committed - extracted == set(), "run ./locales/update.sh: removed strings"


def test_admin_template_matches_the_code(tmp_path):
    """The staff web's template (A_() and its page templates) must not have drifted."""
    fresh = tmp_path / "admin.pot"
    extract_admin(fresh, ROOT)

    def ids(path: Path) -> set[object]:
        with path.open("rb") as handle:
            return {m.id for m in read_po(handle) if m.id}

    assert ids(fresh) == ids(LOCALES_DIR / "admin.pot"), "run ./locales/update.sh"


def test_missing_messages_fall_back_to_english_never_to_an_id():
    t = translator("ti")
    assert t.gettext("a message that no catalog has") == "a message that no catalog has"
    # A known message in every language is a real translation.
    for language in LANGUAGES:
        text = translator(language.code).gettext("Please choose your language.")
        assert text and (language.code == "en" or text != "Please choose your language.")


def test_plural_forms_follow_each_language():
    ar = translator("ar")
    in_days = {n: ar.ngettext("in {n} day", "in {n} days", n).format(n=n) for n in (1, 2, 3, 11)}
    # Arabic: one, two, few (3-10, plural noun) and many (11-99, singular accusative).
    assert in_days[1] != in_days[2] and "2" not in in_days[2]
    assert in_days[3].endswith("3 أيام") and in_days[11].endswith("11 يومًا")
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    assert catalog.num_plurals == 6
    assert len(catalog.get(("in {n} day", "in {n} days")).string) == 6
    uk = translator("uk")
    assert len({uk.ngettext("in {n} day", "in {n} days", n) for n in (1, 3, 5)}) == 3
    de = translator("de")
    assert de.ngettext("in {n} day", "in {n} days", 1) != de.ngettext(
        "in {n} day", "in {n} days", 3
    )


def test_client_language_codes_are_matched():
    assert match_language("de-DE") == "de"
    assert match_language("fa-AF") == "fa_AF"
    assert match_language("prs") == "fa_AF"
    assert match_language("kmr") == "ku"
    assert match_language("ckb") == "ckb"
    assert match_language("pt-BR") is None
    assert match_language(None) is None


def test_rtl_languages_isolate_embedded_text():
    assert translator("ar").isolate("Lindenplatz 1") == "\u2068Lindenplatz 1\u2069"
    assert translator("de").isolate("Lindenplatz 1") == "Lindenplatz 1"
    rtl = {language.code for language in LANGUAGES if language.rtl}
    assert rtl == {"ar", "fa", "fa_AF", "ps", "ckb"}


def test_a_translation_too_long_for_telegram_fails_the_check(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from bot.i18n_check import LONGEST, check_language

    template = Catalog(locale="en")
    template.add("Hello {name}!")
    catalog = Catalog(locale="de")
    catalog.add("Hello {name}!", "Hallo {name}! " + "x" * LONGEST)
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    coverage = check_language("de", template, tmp_path)
    assert coverage.problems == [f"de: longer than {LONGEST} characters 'Hello {{name}}!'"]
