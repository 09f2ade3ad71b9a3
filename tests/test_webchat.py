"""The web chat adapter: the same flows in a browser page, over HTTP against the real app."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.channels.webchat import form_token
from bot.features.onboarding.chat import NOT_CONNECTED, PRIVACY_NOTICE
from bot.features.onboarding.invites import BAD_CODE
from bot.plumbing.errors import STALE_BUTTON
from bot.web.app import create_app
from storage.models import Appointment, ChannelIdentity
from tests.helpers import tr


class ChatClient(httpx.AsyncClient):
    """A browser on the web chat: its forms carry the page's CSRF token, as the page's
    forms do (taken from the chat key the browser holds)."""

    async def post(self, url, *, data=None, headers=None, **kwargs):  # type: ignore[override]
        if url == "/chat" and data is not None and "csrf" not in data:
            key = None
            cookie = (headers or {}).get("cookie", "")
            if cookie.startswith("ww_chat="):
                key = cookie.split("=", 1)[1]
            key = key or self.cookies.get("ww_chat")
            if key is None:
                await self.get("/chat", headers=headers)
                key = self.cookies.get("ww_chat")
            data = {**data, "csrf": form_token(key)}
        return await super().post(url, data=data, headers=headers, **kwargs)


@pytest.fixture
async def web(settings, sessions, router):
    """An HTTP client on the web app; cookies persist like in a browser."""
    app = create_app(settings, sessions, router)
    transport = httpx.ASGITransport(app=app)
    async with ChatClient(
        transport=transport, base_url="http://testserver", follow_redirects=True
    ) as client:
        yield client


def shown(page: httpx.Response) -> str:
    """The page's HTML without the <bdi> that keeps commands and links left-to-right."""
    return re.sub(r"</?bdi[^>]*>", "", page.text)


def bot_entries(html: str) -> list[str]:
    """Ids of the bot messages on the page."""
    return re.findall(r'data-entry="(\d+)"', html)


def entry_with(html: str, data: str) -> str:
    """The id of the bot message that carries a button with this data."""
    for chunk in html.split('<div class="msg bot"')[1:]:
        if f'value="{data}"' in chunk:
            found = re.search(r'data-entry="(\d+)"', chunk)
            assert found is not None
            return found.group(1)
    raise AssertionError(f"no button {data!r} on the page")


async def test_join_and_confirm_in_arabic(
    web, sessions, make_participant, make_invite, make_appointment
):
    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    headers = {"accept-language": "ar,de;q=0.5"}

    # Opening the link redeems nothing (a link preview or a mail scanner opens it too) ...
    page = await web.get(f"/chat?start={invite.token}", headers=headers)
    assert page.status_code == 200 and 'name="start"' in page.text
    assert tr("ar", "Connect with my link") in page.text and 'dir="rtl"' in page.text
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity)) is None
    # ... the button does.
    page = await web.post("/chat", data={"start": invite.token}, headers=headers)
    assert invite.token not in page.text  # the token is not echoed back into the page
    assert 'lang="ar" dir="rtl"' in page.text
    assert 'value="lang:ar"' in page.text and "✓ العربية" in page.text
    entry = bot_entries(page.text)[-1]

    page = await web.post("/chat", data={"cb": "lang:ar", "entry": entry}, headers=headers)
    assert tr("ar", PRIVACY_NOTICE).split("\n")[0] in page.text
    assert len(bot_entries(page.text)) == 1  # the language menu was replaced, not repeated
    page = await web.post("/chat", data={"cb": "pv:ok:ar", "entry": entry}, headers=headers)
    assert tr("ar", "Thank you! You are connected now.") in page.text

    page = await web.post("/chat", data={"text": "/appointments"}, headers=headers)
    assert f'value="ap:c:{appointment.id}"' in page.text
    entry = re.search(
        rf'data-entry="(\d+)"[^>]*>[^<]*?(?:(?!data-entry).)*?ap:c:{appointment.id}',
        page.text,
        re.S,
    )
    assert entry is not None
    page = await web.post(
        "/chat", data={"cb": f"ap:c:{appointment.id}", "entry": entry.group(1)}, headers=headers
    )
    assert tr("ar", "✅ You confirmed. Thank you!") in page.text
    # The short notice of the pressed button shows under the changed message.
    assert f'<div class="toast" role="status">{tr("ar", "Confirmed ✅")}</div>' in page.text
    async with sessions() as session:
        stored = await session.get(Appointment, appointment.id)
        identity = await session.scalar(select(ChannelIdentity))
    assert stored is not None and stored.response == "confirmed"
    # Storage knows the web chat only by a hash of the browser's cookie.
    assert identity is not None and identity.channel == "web"
    assert identity.external_id not in web.cookies.get("ww_chat", "")


async def test_bad_input_in_the_web_chat(web, sessions, make_participant, make_invite):
    """A wrong code, an over-long message and forged button data: a clear answer each,
    in the browser's language, and nothing stored."""
    uk = {"accept-language": "uk"}
    page = await web.post("/chat", data={"start": "not-a-token"}, headers=uk)
    assert tr("uk", BAD_CODE) in page.text
    page = await web.post("/chat", data={"text": "y" * 5000}, headers=uk)
    too_long = tr(
        "uk", "This message is too long. Please write at most {limit} characters.", limit=1000
    )
    assert page.text.count(too_long) == 1
    page = await web.post("/chat", data={"cb": "x" * 500}, headers=uk)
    assert tr("uk", STALE_BUTTON) in page.text
    # A participant's button from a chat that is not connected: how to connect.
    page = await web.post("/chat", data={"cb": "ap:c:①"}, headers=uk)
    assert tr("uk", NOT_CONNECTED) in shown(page)
    missing = await web.get("/chat/file/999")
    assert missing.status_code == 404
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity)) is None


async def test_calendar_download(web, make_participant, make_invite, make_appointment):
    participant = await make_participant(accepted=True, locale="de")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant)
    await web.post("/chat", data={"start": invite.token})
    page = await web.post("/chat", data={"cb": f"ap:i:{appointment.id}"})
    link = re.search(r'href="(/chat/file/\d+)"', page.text)
    assert link is not None
    ics = await web.get(link.group(1))
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VALARM" in ics.content and b"TZID=Europe/Berlin" in ics.content


async def test_health_and_invite_api(web, sessions, make_participant, make_staff):
    from bot.features.staff.accounts import create_staff

    assert (await web.get("/healthz")).text == "ok"
    async with sessions.begin() as session:
        coach = await create_staff(
            session,
            email="coach@example.org",
            display_name="C",
            role="coach",
            password="a long enough password",
        )
    own = await make_participant(coach_id=coach.id)
    other = await make_participant()
    auth = ("coach@example.org", "a long enough password")

    assert (await web.post("/api/invites", json={"participant_id": own.id})).status_code == 401
    wrong = await web.post(
        "/api/invites",
        json={"participant_id": own.id},
        auth=("coach@example.org", "wrong password!!"),
    )
    assert wrong.status_code == 401
    made = await web.post("/api/invites", json={"participant_id": own.id}, auth=auth)
    assert made.status_code == 201
    body = made.json()
    assert body["telegram_link"] is None  # no TELEGRAM_BOT_TOKEN: no link to a wrong bot
    token = body["web_link"].rsplit("=", 1)[1]
    assert len(token) >= 22  # ≥128 bits of URL-safe base64
    # A coach cannot invite someone else's participant; ids reveal nothing.
    foreign = await web.post("/api/invites", json={"participant_id": other.id}, auth=auth)
    assert foreign.status_code == 404
    broken = await web.post("/api/invites", content=b"{", auth=auth)
    assert broken.status_code == 400


async def invite_api(settings, sessions, router, **overrides):
    """A client of the invite API with an admin's login, and a participant to invite."""
    from bot.features.staff.accounts import create_staff
    from storage.models import Participant

    async with sessions.begin() as session:
        admin = await create_staff(
            session,
            email="admin@example.org",
            display_name="A",
            role="admin",
            password="a long enough password",
        )
        participant = Participant(display_name="Amina", coach_id=admin.id)
        session.add(participant)
    app = create_app(settings.model_copy(update=overrides), sessions, router)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        auth=("admin@example.org", "a long enough password"),
    )
    return client, participant.id


async def test_the_invite_api_links_the_bot_telegram_named(settings, sessions, router):
    # `wegweiser run` puts the name getMe gave into the settings (bot.app.with_bot_username).
    client, pid = await invite_api(
        settings,
        sessions,
        router,
        telegram_bot_token="123456:TEST-TOKEN",
        telegram_bot_username="KreisHelferBot",
        web_base_url="https://wegweiser.example.org",
    )
    async with client:
        made = await client.post("/api/invites", json={"participant_id": pid})
    assert made.status_code == 201
    token = made.json()["web_link"].removeprefix("https://wegweiser.example.org/chat?start=")
    assert made.json()["telegram_link"] == f"https://t.me/KreisHelferBot?start={token}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"participant_id": 1.9}',
        b'{"participant_id": 1.0}',
        b'{"participant_id": true}',
        '{"participant_id": "\u0661"}'.encode(),  # ARABIC-INDIC DIGIT ONE, which int() reads
        '{"participant_id": "١"}'.encode(),
        b'{"participant_id": "1"}',
        b'{"participant_id": null}',
        b'{"participant_id": [1]}',
        b'{"participant_id": 100000000000000000000}',
        b'{"participant_id": 0}',
        b'{"participant_id": NaN}',
        b"[1]",
        b"\xff\xfe",
        b"[" * 1020,  # deeper than the JSON parser's recursion limit, within 1 KiB
    ],
)
async def test_the_invite_api_takes_only_a_plain_integer_id(settings, sessions, router, body):
    client, pid = await invite_api(settings, sessions, router)
    assert pid == 1  # each refused body would have meant participant 1 before
    async with client:
        refused = await client.post("/api/invites", content=body)
        assert refused.status_code == 400, refused.text
        assert refused.json() == {"error": 'send JSON {"participant_id": N}'}
        assert (await client.post("/api/invites", json={"participant_id": 1})).status_code == 201


async def test_the_invite_api_refuses_a_large_body(settings, sessions, router):
    client, pid = await invite_api(settings, sessions, router)
    padded = b'{"participant_id": %d, "pad": "%s"}' % (pid, b"x" * 1024)
    async with client:
        large = await client.post("/api/invites", content=padded)
        assert large.status_code == 413 and large.json() == {"error": "request body too large"}
        spaced = await client.post("/api/invites", content=b'{"participant_id": 1' + b" " * 2000)
        assert spaced.status_code == 413


async def test_a_start_command_never_shows_the_code(web, make_participant, make_invite):
    for typed in (
        "/START abcdefghijklmnopqrstuvwxyzABCDEF",
        "/start@WegweiserBot SECRETCODE",
        "/start\tTABBEDCODE",
    ):
        page = await web.post("/chat", data={"text": typed})
        code = typed.split()[-1]
        assert code not in page.text and "/start …" in shown(page)


async def test_pages_carry_security_headers_and_the_bots_length_limit(web):
    page = await web.get("/chat")
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"  # a conversation is personal data
    assert 'maxlength="1000"' in page.text  # the same limit the bot answers for
    font = await web.get("/static/fonts/arabic.woff2")
    assert font.status_code == 200 and "cache-control" not in font.headers


async def test_a_planted_cookie_is_never_accepted_and_binding_renews_the_key(
    web, sessions, make_participant, make_invite
):
    """Someone plants a chat cookie in another person's browser, hoping to read along once
    that person connects: the server replaces it, and gives a new key on binding anyway."""
    planted = "attacker-chosen-value-1234567890"
    page = await web.get("/chat", headers={"cookie": f"ww_chat={planted}"})
    issued = page.cookies.get("ww_chat")
    assert issued and issued != planted
    participant = await make_participant(accepted=True, locale="de", display_name="Amina")
    invite = await make_invite(participant)
    await web.post("/chat", data={"text": f"/start {invite.token}"})
    renewed = web.cookies.get("ww_chat")
    assert renewed and renewed != issued  # a new key once the chat is bound
    page = await web.get("/chat")
    greeting = "Hello! I am Wegweiser, the bot of your programme. Please choose your language."
    assert tr("de", greeting) in page.text  # the transcript moved with the chat
    # The key from before the binding reaches nothing any more.
    async with ChatClient(
        transport=httpx.ASGITransport(app=web._transport.app), base_url="http://testserver"
    ) as other:
        page = await other.post(
            "/chat", data={"text": "/menu"}, headers={"cookie": f"ww_chat={issued}"}
        )
        page = await other.get(
            "/chat", headers={"cookie": f"ww_chat={page.cookies.get('ww_chat') or issued}"}
        )
        assert "Amina" not in page.text
    async with sessions() as session:
        [identity] = (await session.scalars(select(ChannelIdentity))).all()
    assert identity.external_id not in (issued, renewed)  # storage keeps only a hash


async def test_a_post_without_the_pages_token_changes_nothing(
    web, sessions, make_participant, make_invite
):
    """Another site cannot make a visitor's browser redeem an invite or press a button."""
    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    await web.get("/chat")
    for forged in ({"start": invite.token, "csrf": ""}, {"start": invite.token, "csrf": "0" * 32}):
        page = await web.post("/chat", data=forged)  # the token given: no page's own
        assert page.status_code == 200
    missing = await httpx.AsyncClient.post(web, "/chat", data={"start": invite.token})
    assert missing.status_code == 200
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity)) is None
    assert bot_entries((await web.get("/chat")).text) == []


async def test_the_transcript_survives_a_restart(settings, sessions, router, make_participant):
    """A new app (another process, or after a restart) shows the same conversation."""
    participant = await make_participant(accepted=True, locale="uk", display_name="Olena")
    first = create_app(settings, sessions, router)
    async with ChatClient(
        transport=httpx.ASGITransport(app=first),
        base_url="http://testserver",
        follow_redirects=True,
    ) as browser:
        await browser.post("/chat", data={"text": "/help"})
        key = browser.cookies.get("ww_chat")
    second = create_app(settings, sessions, router)
    async with ChatClient(
        transport=httpx.ASGITransport(app=second),
        base_url="http://testserver",
        follow_redirects=True,
    ) as again:
        page = await again.get("/chat", headers={"cookie": f"ww_chat={key}"})
        assert again.cookies.get("ww_chat") in (None, key)  # the key is still accepted
        assert "/help" in page.text and len(bot_entries(page.text)) == 1
    assert participant.id


async def test_a_busy_address_is_slowed_not_refused_and_a_valid_code_still_redeems(
    settings, sessions, router, make_participant, make_invite
):
    """20 wrong codes from one address (each with a fresh cookie: a new cookie is free) use up
    the address's count; from then on a code from there waits for its slow turn (one per
    address every SLOW_CODES seconds, whatever the process), and a participant at the same
    shelter's address still gets in. Nothing is refused, nothing is bound by a wrong code."""
    import asyncio

    from bot.plumbing.throttle import CODES_PER_ADDRESS, SLOW_CODES

    participant = await make_participant()
    invite = await make_invite(participant)
    app = create_app(settings, sessions, router)

    async def post_code(code: str) -> tuple[str, float]:
        async with ChatClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            follow_redirects=True,
        ) as fresh:
            started = asyncio.get_running_loop().time()
            page = await fresh.post(
                "/chat", data={"start": code}, headers={"accept-language": "de"}
            )
            return page.text, asyncio.get_running_loop().time() - started

    for attempt in range(CODES_PER_ADDRESS.tries):
        text, _ = await post_code(f"wrong-code-{attempt:02d}-xxxxxxxxxxxxxxxxxxx")
        assert tr("de", BAD_CODE).split("\n")[0] in text
    # Past the limit: the next wrong code is still checked (and answered as wrong) ...
    text, _ = await post_code("wrong-code-late-xxxxxxxxxxxxxxxxxxxxx")
    assert tr("de", BAD_CODE).split("\n")[0] in text
    # ... and the participant's valid code right after waits for the next turn, then binds.
    text, waited = await post_code(invite.token)
    assert waited >= SLOW_CODES.seconds * 0.8
    assert 'value="lang:ar"' in text  # the language menu of a bound chat
    async with sessions() as session:
        bound = (await session.scalars(select(ChannelIdentity))).all()
    assert [identity.participant_id for identity in bound] == [participant.id]


async def test_delete_in_the_web_chat_forgets_the_transcript(
    web, sessions, make_participant, make_invite
):
    from bot.features.privacy import DELETED

    participant = await make_participant(accepted=True, locale="fr", display_name="Samira")
    invite = await make_invite(participant)
    await web.post("/chat", data={"text": f"/start {invite.token}"})
    page = await web.post("/chat", data={"text": "/privacy"})
    assert "Samira" in page.text
    page = await web.post("/chat", data={"text": "/delete"})
    page = await web.post("/chat", data={"cb": "pv:dy", "entry": entry_with(page.text, "pv:dy")})
    assert tr("fr", DELETED).split("\n")[0] in page.text
    assert "Samira" not in page.text and "/privacy" not in page.text
    assert len(bot_entries(page.text)) == 1
    async with sessions() as session:
        from storage.models import WebChatEntry

        texts = (await session.scalars(select(WebChatEntry.text))).all()
    assert all("Samira" not in text for text in texts)


async def test_page_views_store_no_key_the_first_post_does(web, sessions):
    """Link previews and crawlers open /chat too: a GET or HEAD writes nothing; the key is
    stored when the browser first posts."""
    from sqlalchemy import func

    from storage.models import WebChatKey

    async def keys() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(WebChatKey)) or 0)

    for _ in range(100):
        async with ChatClient(transport=web._transport, base_url="http://testserver") as fresh:
            page = await fresh.get("/chat")
            assert page.status_code == 200 and fresh.cookies.get("ww_chat")
    for _ in range(20):
        async with ChatClient(transport=web._transport, base_url="http://testserver") as fresh:
            assert (await fresh.head("/chat")).status_code == 200
    assert await keys() == 0
    await web.get("/chat")
    page = await web.post("/chat", data={"text": "/help"})
    assert "/help" in page.text
    assert await keys() == 1
    await web.post("/chat", data={"text": "/help"})
    assert await keys() == 1


@pytest.mark.parametrize("entry", ["²", "١", "1" * 30, "0", "-1", "12a", " 7", "2147483648"])
async def test_a_malformed_entry_number_is_refused_and_changes_nothing(
    web, sessions, make_participant, make_invite, make_appointment, entry
):
    participant = await make_participant(accepted=True, locale="de")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant)
    await web.post("/chat", data={"start": invite.token})
    page = await web.post("/chat", data={"text": "/appointments"})
    before = bot_entries(page.text)
    refused = await web.post("/chat", data={"cb": f"ap:c:{appointment.id}", "entry": entry})
    assert refused.status_code == 400
    # The page is intact: the whole conversation, its forms and the input line.
    assert bot_entries(refused.text) == before and 'name="text"' in refused.text
    assert f'value="ap:c:{appointment.id}"' in refused.text
    async with sessions() as session:
        stored = await session.get(Appointment, appointment.id)
    assert stored is not None and stored.response is None


@pytest.mark.parametrize("entry_id", ["9" * 20, "2147483648", "0", "²"])
async def test_a_malformed_file_number_is_not_found(web, entry_id):
    await web.post("/chat", data={"text": "/help"})
    missing = await web.get(f"/chat/file/{entry_id}")
    assert missing.status_code == 404


async def test_control_characters_in_a_post_are_dropped(web, sessions):
    """PostgreSQL stores no NUL: a typed NUL (only a forged form can hold one) is dropped."""
    from storage.models import WebChatEntry

    page = await web.post("/chat", data={"text": "/he\x00lp\x07"})
    assert page.status_code == 200
    page = await web.post("/chat", data={"cb": "\x00ap:c:1", "start": "\x00"})
    assert page.status_code == 200
    async with sessions() as session:
        texts = (await session.scalars(select(WebChatEntry.text))).all()
    assert "/help" in texts and all("\x00" not in text for text in texts)


async def test_an_open_page_hears_of_a_push(web, monkeypatch):
    """/chat/wait answers when the stored transcript changed since the page's version, and
    with 204 when nothing happened for WAIT_SECONDS."""
    import asyncio

    import bot.web.app as web_app
    from bot.plumbing.messages import Reply

    monkeypatch.setattr(web_app, "WAIT_SECONDS", 0.3)
    monkeypatch.setattr(web_app, "WAIT_STEP", 0.05)
    page = await web.post("/chat", data={"text": "/help"})
    version = re.search(r'data-version="(\w+)"', page.text)
    assert version is not None
    quiet = await web.get(f"/chat/wait?v={version.group(1)}")
    assert quiet.status_code == 204
    monkeypatch.setattr(web_app, "WAIT_SECONDS", 5.0)
    chat = web._transport.app.state.webchat
    key = web.cookies.get("ww_chat")
    waiting = asyncio.create_task(web.get(f"/chat/wait?v={version.group(1)}"))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    from bot.channels.webchat import chat_id_for

    await chat.push(chat_id_for(key), Reply(text="Erinnerung: 10:30 Uhr", lang="de"))
    news = await asyncio.wait_for(waiting, 3)
    assert news.status_code == 200
    assert "Erinnerung: 10:30 Uhr" in news.json()["html"]
    assert news.json()["version"] != version.group(1)
    async with ChatClient(transport=web._transport, base_url="http://testserver") as stranger:
        planted = {"cookie": "ww_chat=" + "x" * 30}
        assert (await stranger.get("/chat/wait", headers=planted)).status_code == 400
