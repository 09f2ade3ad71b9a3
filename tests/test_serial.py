"""The keyed serializer of every channel adapter: one chat's work in order, different chats
at once, no lock left behind, and none dropped while a waiter still queues on it."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.channels.telegram import PerChatUpdates
from bot.plumbing.serial import ChatSerializer


async def test_a_third_turn_waits_for_the_second_when_the_first_has_ended():
    """The defect PerChatUpdates had: the first turn dropped the chat's lock while the
    second still waited on it, so a third ran beside the second."""
    serializer = ChatSerializer()
    order: list[str] = []

    async def work(name: str, seconds: float) -> None:
        async with serializer.turn(7):
            order.append(f"{name} starts")
            await asyncio.sleep(seconds)
            order.append(f"{name} ends")

    first = asyncio.create_task(work("privacy", 0.05))
    second = asyncio.create_task(work("appointments", 0.2))
    await asyncio.sleep(0.1)  # the first has ended, the second runs
    third = asyncio.create_task(work("help", 0.01))
    await asyncio.gather(first, second, third)
    assert order == [
        "privacy starts",
        "privacy ends",
        "appointments starts",
        "appointments ends",
        "help starts",
        "help ends",
    ]
    assert len(serializer) == 0  # nothing left behind


async def test_different_chats_run_at_once():
    serializer = ChatSerializer()
    running: set[int] = set()
    most = 0

    async def work(chat: int) -> None:
        nonlocal most
        async with serializer.turn(chat):
            running.add(chat)
            most = max(most, len(running))
            await asyncio.sleep(0.05)
            running.discard(chat)

    await asyncio.wait_for(asyncio.gather(*(work(chat) for chat in range(20))), 0.5)
    assert most == 20 and len(serializer) == 0


async def test_a_failing_turn_frees_the_chat():
    serializer = ChatSerializer()

    async def boom() -> None:
        async with serializer.turn("x"):
            raise ValueError("boom")

    results = await asyncio.gather(boom(), boom(), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results) and len(serializer) == 0


async def test_telegram_updates_of_one_chat_stay_in_order_with_slow_answers():
    """PTB hands PerChatUpdates one task per update; a slow second answer must not let the
    third update of the chat overtake it."""
    processor = PerChatUpdates()
    order: list[str] = []

    def update(number: int) -> Update:
        chat = Chat(id=42, type="private")
        return Update(number, message=Message(number, date=None, chat=chat))  # type: ignore[arg-type]

    async def answer(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        order.append(name)

    first = asyncio.create_task(processor.do_process_update(update(1), answer("privacy", 0.05)))
    second = asyncio.create_task(
        processor.do_process_update(update(2), answer("appointments", 0.2))
    )
    await asyncio.sleep(0.1)
    third = asyncio.create_task(processor.do_process_update(update(3), answer("help", 0)))
    await asyncio.gather(first, second, third)
    assert order == ["privacy", "appointments", "help"]
