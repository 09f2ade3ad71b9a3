"""Uploaded recordings: checked, converted to OGG/Opus by the packaged ffmpeg, refused when
they are no audio, too large or too long — and the event loop keeps running meanwhile."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.plumbing import audio
from bot.plumbing.audio import AudioRefused, to_voice
from tests.audio_files import opus, sine, video_only


async def test_a_wav_file_becomes_ogg_opus_of_the_same_length():
    recording = await to_voice(sine(2.0))
    assert recording.converted
    assert recording.data[:4] == b"OggS"
    assert b"OpusHead" in recording.data[:200]
    assert recording.seconds == pytest.approx(2.0, abs=0.1)


async def test_an_mp3_becomes_ogg_opus():
    recording = await to_voice(sine(1.0, ".mp3"))
    assert recording.converted and recording.data[:4] == b"OggS"


async def test_ogg_opus_is_kept_as_it_came():
    data = opus(1.0)
    recording = await to_voice(data)
    assert not recording.converted
    assert recording.data == data


@pytest.mark.parametrize(
    "data",
    [b"Hallo, das ist kein Ton.\n" * 40, b"\x00\x01garbage" * 100, b"%PDF-1.4\n" + b"x" * 500],
)
async def test_a_file_that_is_not_audio_is_refused(data):
    with pytest.raises(AudioRefused) as refused:
        await to_voice(data)
    assert refused.value.message.startswith("This file is not a recording.")


async def test_a_film_without_sound_is_refused():
    with pytest.raises(AudioRefused) as refused:
        await to_voice(video_only())
    assert refused.value.message.startswith("This file is not a recording.")


async def test_a_recording_longer_than_the_limit_is_refused():
    with pytest.raises(AudioRefused) as refused:
        await to_voice(sine(3.0), max_seconds=2)
    assert refused.value.message == "The recording may be at most {minutes} minutes long."


async def test_a_file_larger_than_the_limit_is_refused_unread():
    with pytest.raises(AudioRefused) as refused:
        await to_voice(b"x" * 1001, max_bytes=1000)
    assert refused.value.message == "The file may be at most {megabytes} MB."


async def test_an_empty_upload_is_refused():
    with pytest.raises(AudioRefused) as refused:
        await to_voice(b"")
    assert refused.value.message == "Choose an audio file."


async def test_a_conversion_that_takes_too_long_is_killed_and_refused():
    with pytest.raises(AudioRefused) as refused:
        await to_voice(sine(1.0), limit=0.000_1)
    assert refused.value.message.startswith("The file took too long")


async def test_the_event_loop_runs_while_ffmpeg_converts():
    """Ticks of 10 ms keep coming during a conversion: it runs beside the loop."""
    data = sine(60.0)
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    stop = asyncio.Event()
    task = asyncio.create_task(ticker(stop))
    started = time.perf_counter()
    await to_voice(data)
    took = time.perf_counter() - started
    stop.set()
    await task
    assert len(gaps) >= 3, f"the loop ticked {len(gaps)} times in {took:.2f} s"
    assert max(gaps) < 0.5, f"the loop stood still for {max(gaps):.2f} s"


def test_the_packaged_ffmpeg_is_there():
    assert audio.ffmpeg_exe()
