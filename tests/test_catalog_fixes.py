"""The reviewer's catalog fixes stay in their catalogs, and the privacy notice tells, in every
language, what is stored, for how long, and how to erase it."""

from __future__ import annotations

import pytest

from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.i18n import BY_CODE, LANGUAGES, translator

KIM_QUESTION = "Do you want us to hand you over to KIM?"
INTEGRATION = (
    "Your programme has ended, so there are no appointments here any more. You can still "
    "get help: the case management KIM of Kreis Unna supports you. "
    "Please ask at the integration centre."
)
HANDOVER_CONSENT = (
    "If you agree, we pass on to KIM:\n"
    "• your first name: {name}\n"
    "• your language: {language}\n"
    "• your programme module: {module}\n"
    "• the name of your coach: {coach}\n"
    "Nothing else. KIM will contact you. You can withdraw at any time with /handover."
)

# (language, msgid, must contain, must not contain)
FIXES = [
    ("ar", "You asked already. Your request is with the team.", "بالفعل", "من قبل"),
    ("ku", KIM_QUESTION, "bi KIM re bidin naskirin", "bişînin"),
    ("ku", "Hand-over to the case management KIM", "Naskirina bi KIM re", "Şandina"),
    ("ckb", KIM_QUESTION, "بە KIM بتناسێنین", "بتنێرینە"),
    ("ckb", "Hand-over to the case management KIM", "ناساندن", "ناردن"),
    ("uk", "Withdrawn", "Відкликано", "Скасовано"),
    ("ru", "Withdrawn", "Отозвано", "Отменено"),
    ("fr", HANDOVER_CONSENT, "retirer votre accord", "annuler"),
    ("ti", "↩️ Cancel", "ኣቋርጹ", "ሰርዙ"),
    ("ti", "✖ Cancel", "ኣቋርጹ", "ሰርዙ"),
    ("so", "↩️ Cancel", "Jooji", "Baaji"),
    ("so", "✖ Cancel", "Jooji", "Baaji"),
    (
        "de_simple",
        "Your coach will know that you cannot come. Do you want to tell them why? "
        "Write a short message, or press Skip.",
        "Dein Coach erfährt das",
        "Bescheid",
    ),
    ("fa", INTEGRATION, "(Integrationszentrum)", None),
    ("fa_AF", INTEGRATION, "(Integrationszentrum)", None),
    ("ps", INTEGRATION, "(Integrationszentrum)", None),
]


@pytest.mark.parametrize(("code", "msgid", "wanted", "unwanted"), FIXES)
def test_each_reviewer_fix_is_in_its_catalog(code, msgid, wanted, unwanted):
    text = translator(code).gettext(msgid)
    assert text != msgid
    assert wanted in text
    if unwanted is not None:
        assert unwanted not in text


def test_sorani_is_named_apart_from_kurmanji_in_the_language_menu():
    assert BY_CODE["ckb"].native_name == "کوردی (سۆرانی)"


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_the_privacy_notice_says_how_to_erase_and_what_is_kept_how_long(code):
    notice = translator(code).gettext(PRIVACY_NOTICE)
    assert notice != PRIVACY_NOTICE or code == "en"
    assert "/privacy" in notice and "/delete" in notice
    # Six bullet points: name and language; answers, reasons and messages, kept until
    # deleted; voice messages likewise, and Telegram's copy; what is never stored; why so
    # little is written; /privacy and /delete.
    assert notice.count("•") == 6
    english = translator("en").gettext(PRIVACY_NOTICE)
    assert "the reasons you give when you cannot come" in english
    assert "your messages to your coach" in english
    assert "We keep them until your data is deleted." in english
    assert "We keep voice messages with your coach like your messages" in english
    assert "Telegram may keep its own copy. We cannot delete that copy." in english
    assert "With /delete you can delete everything yourself at any time." in english
