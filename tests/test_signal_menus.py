"""Numbers of Signal options keep their meaning per chat (storage.signal_menus)."""

from __future__ import annotations

from datetime import timedelta

from storage.signal_menus import MAX_NUMBER, number_options, option
from storage.types import utcnow

CHAT = "0b5e7a00-1111-4222-8333-444455556666"


async def _numbers(sessions, options, now) -> list[int]:
    async with sessions.begin() as session:
        return await number_options(session, chat_id=CHAT, options=options, now=now)


async def _meaning(sessions, number: int) -> str | None:
    async with sessions() as session:
        return await option(session, chat_id=CHAT, number=number)


async def test_an_option_shown_again_keeps_its_number_and_new_ones_get_fresh_numbers(sessions):
    now = utcnow()
    assert await _numbers(sessions, ["ap:c:1", "ap:x:1", "ap:r:1"], now) == [1, 2, 3]
    # The card after ✅: no ✅ any more; ❌ and 🔁 keep 2 and 3, 1 still means ✅.
    assert await _numbers(sessions, ["ap:x:1", "ap:r:1", "mn:menu"], now) == [2, 3, 4]
    assert await _meaning(sessions, 1) == "ap:c:1"
    assert await _meaning(sessions, 4) == "mn:menu"
    assert await _meaning(sessions, 5) is None
    # Another chat numbers on its own.
    async with sessions.begin() as session:
        other = await number_options(session, chat_id="other", options=["mn:ap"], now=now)
    assert other == [1]


async def test_numbers_start_again_after_a_quiet_day_or_past_the_limit(sessions):
    now = utcnow()
    await _numbers(sessions, ["ap:c:1", "ap:x:1"], now)
    assert await _numbers(sessions, ["mn:ap"], now + timedelta(days=1, minutes=1)) == [1]
    assert await _meaning(sessions, 2) is None
    many = [f"ns:{n}" for n in range(MAX_NUMBER)]
    numbers = await _numbers(sessions, many, now + timedelta(days=1, minutes=2))
    assert numbers == list(range(1, MAX_NUMBER + 1))  # no room for "mn:ap": from 1 again
    assert max(await _numbers(sessions, ["x"], now + timedelta(days=1, minutes=3))) == 1
