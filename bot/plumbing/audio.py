"""Uploaded recordings: checked and, where needed, converted to OGG/Opus (what Telegram plays
as a voice message) with the ffmpeg that the imageio-ffmpeg wheel ships.

ffmpeg runs as a child process with a time limit, so the event loop goes on serving others
while it works; the input is bounded in size and the recording in length. Nothing here
logs a file's content.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import A_

MAX_BYTES = 10_000_000  # an upload larger than this is refused unread
MAX_SECONDS = 300  # five minutes: longer than anyone listens to on a phone
TIMEOUT = 60.0  # seconds for one ffmpeg run; a stuck one is killed
NICENESS = 10  # ffmpeg runs below the bot's priority

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)")
_CONTAINER = re.compile(r"^Input #0, ([\w,]+), from", re.MULTILINE)


class AudioRefused(Exception):
    """A file that is not a usable recording; `message` is a msgid for the staff web."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Probe:
    """What ffmpeg read from a file's header."""

    container: str
    codec: str | None  # of the first audio stream; None: the file holds no audio
    seconds: float | None  # None: the file does not say


@dataclass(frozen=True)
class CheckedAudio:
    """A checked recording in OGG/Opus."""

    data: bytes
    seconds: float
    converted: bool  # False: the upload already was OGG/Opus and is kept as it came


def ffmpeg_exe() -> str:
    """The packaged ffmpeg binary (found once, then remembered by imageio-ffmpeg)."""
    import imageio_ffmpeg  # imported here: it looks for its binary when first asked

    return str(imageio_ffmpeg.get_ffmpeg_exe())


async def run_ffmpeg(*args: str, limit: float = TIMEOUT) -> tuple[int, str]:
    """Run ffmpeg as a child process; its exit code and its messages (stderr)."""
    # The first call looks for the binary and runs it once: in a thread, like every wait.
    exe = await asyncio.to_thread(ffmpeg_exe)
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-hide_banner",
        "-nostdin",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    with contextlib.suppress(OSError):
        # Lower priority: on a busy machine the bot's replies come before the conversion.
        os.setpriority(os.PRIO_PROCESS, proc.pid, NICENESS)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AudioRefused(A_("The file took too long to convert. Try a shorter one.")) from None
    return proc.returncode or 0, err.decode("utf-8", "replace")


def read_probe(messages: str) -> Probe:
    """The container, audio codec and length that ffmpeg printed about its input."""
    container = _CONTAINER.search(messages)
    codec = _AUDIO.search(messages)
    duration = _DURATION.search(messages)
    seconds = None
    if duration:
        hours, minutes, rest = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(rest)
    return Probe(
        container=container.group(1) if container else "",
        codec=codec.group(1) if codec else None,
        seconds=seconds,
    )


async def probe(path: Path, *, limit: float = TIMEOUT) -> Probe:
    """Read a file's header (ffmpeg with an input and no output says what it found)."""
    _, messages = await run_ffmpeg("-i", str(path), limit=limit)
    return read_probe(messages)


def _not_audio() -> AudioRefused:
    return AudioRefused(
        A_("This file is not a recording. Upload an audio file (e.g. OGG, MP3, M4A).")
    )


def _too_long(max_seconds: int) -> AudioRefused:
    return AudioRefused(
        A_("The recording may be at most {minutes} minutes long."), minutes=max_seconds // 60
    )


async def to_voice(
    data: bytes,
    *,
    max_seconds: int = MAX_SECONDS,
    max_bytes: int = MAX_BYTES,
    limit: float = TIMEOUT,
) -> CheckedAudio:
    """Check an upload and give it as OGG/Opus; AudioRefused for a file that is empty, too
    large, too long or no audio at all."""
    if not data:
        raise AudioRefused(A_("Choose an audio file."))
    if len(data) > max_bytes:
        raise AudioRefused(
            A_("The file may be at most {megabytes} MB."), megabytes=max_bytes // 1_000_000
        )
    with tempfile.TemporaryDirectory(prefix="wegweiser-audio-") as folder:
        source, target = Path(folder, "upload"), Path(folder, "voice.ogg")
        await asyncio.to_thread(source.write_bytes, data)
        found = await probe(source, limit=limit)
        if found.codec is None:
            raise _not_audio()
        if found.seconds is not None and found.seconds > max_seconds + 0.5:
            raise _too_long(max_seconds)
        if found.container == "ogg" and found.codec == "opus" and found.seconds is not None:
            return CheckedAudio(data, found.seconds, converted=False)
        code, _ = await run_ffmpeg(
            "-i", str(source),
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-t", str(max_seconds + 1),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "32k",
            "-threads", "1", "-f", "ogg", str(target),
            limit=limit,
        )  # fmt: skip
        if code != 0:
            raise _not_audio()
        result = await probe(target, limit=limit)
        if result.codec != "opus":
            raise _not_audio()
        if result.seconds is not None and result.seconds > max_seconds + 0.5:
            raise _too_long(max_seconds)
        converted = await asyncio.to_thread(target.read_bytes)
    if len(converted) > max_bytes:
        raise AudioRefused(
            A_("The file may be at most {megabytes} MB."), megabytes=max_bytes // 1_000_000
        )
    return CheckedAudio(converted, result.seconds or 0.0, converted=True)
