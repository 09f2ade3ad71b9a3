"""Small audio (and not-audio) files made by the packaged ffmpeg, for the voice tests."""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path

from bot.plumbing.audio import ffmpeg_exe


def _make(suffix: str, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "out" + suffix)
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *args, str(out)],
            check=True,
            timeout=60,
        )
        return out.read_bytes()


@cache
def sine(seconds: float = 1.0, suffix: str = ".wav", *codec: str) -> bytes:
    """A sine tone of `seconds` in the container `suffix` (with optional codec arguments)."""
    return _make(suffix, "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", *codec)


@cache
def opus(seconds: float = 1.0) -> bytes:
    """A sine tone already in OGG/Opus, as Telegram records a voice message."""
    return sine(seconds, ".ogg", "-c:a", "libopus", "-b:a", "24k")


@cache
def video_only() -> bytes:
    """A short film without sound."""
    return _make(
        ".mkv", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "mpeg4"
    )
