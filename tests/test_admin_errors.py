"""Every error page of the staff web in the staff member's language (German or English):
an unknown address, a page that only takes forms, an expired form, an admin-only page and a
failure on our side."""

from __future__ import annotations

import bot.web.admin.inbox
from tests.test_admin_web import PASSWORD, browser, site, staff  # noqa: F401 - fixtures

NO_PAGE = {
    "de": "Diese Seite gibt es nicht.",
    "en": "This page does not exist.",
}
FAILED = {
    "de": "Bei uns ist etwas schiefgegangen. Es wurde nichts gespeichert.",
    "en": "Something went wrong on our side. Nothing was saved.",
}
EXPIRED = {
    "de": "Dieses Formular ist abgelaufen",
    "en": "This form has expired or came from another site.",
}
ADMINS_ONLY = {
    "de": "Nur Admins dürfen diese Seite öffnen.",
    "en": "Only admins may open this page.",
}


async def test_error_pages_speak_the_staff_members_language(
    browser,  # noqa: F811
    staff,  # noqa: F811
    monkeypatch,
):
    coach = await staff()
    for lang in ("de", "en"):
        # The browser asks for the other language: the staff member's choice wins.
        b = browser()
        b.client.headers["accept-language"] = "de-DE" if lang == "en" else "en-GB"
        await b.login(coach.email, PASSWORD)
        await b.post("/admin/language", {"lang": lang, "next": "/admin"})
        unknown = await b.get("/admin/no-such-page")
        assert unknown.status_code == 404 and NO_PAGE[lang] in unknown.text
        assert f'<html lang="{lang}">' in unknown.text
        wrong_method = await b.get("/admin/logout")
        assert wrong_method.status_code == 405 and NO_PAGE[lang] in wrong_method.text
        expired = await b.post("/admin/participants/new", {"name": "X"}, csrf=False)
        assert expired.status_code == 403 and EXPIRED[lang] in expired.text
        forbidden = await b.get("/admin/audit")
        assert forbidden.status_code == 403 and ADMINS_ONLY[lang] in forbidden.text

        async def broken(*_args, **_kwargs):
            raise RuntimeError("a bug")

        with monkeypatch.context() as patch:
            patch.setattr(bot.web.admin.inbox, "inbox_rows", broken)
            failed = await b.get("/admin/inbox")
        assert failed.status_code == 500 and FAILED[lang] in failed.text
        assert "Internal Server Error" not in failed.text
    # Without a login: the browser's language.
    stranger = browser()
    stranger.client.headers["accept-language"] = "en-US,en;q=0.8"
    unknown = await stranger.get("/admin/no-such-page")
    assert unknown.status_code == 404 and NO_PAGE["en"] in unknown.text
    stranger.client.headers["accept-language"] = "de"
    unknown = await stranger.get("/admin/no-such-page")
    assert unknown.status_code == 404 and NO_PAGE["de"] in unknown.text
