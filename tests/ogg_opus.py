"""A real, playable OGG/Opus recording of silence, built in Python for the tests (no
encoder needed): Telegram's voice format, which a browser's <audio> plays."""

from __future__ import annotations

import struct

SILENCE = b"\xf8\xff\xfe"  # one 20 ms Opus frame of silence (CELT, 48 kHz)
FRAME_SAMPLES = 960
PRE_SKIP = 312


def _crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, no final xor)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _page(packets: list[bytes], *, flags: int, granule: int, sequence: int) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack(
        "<4sBBqIIIB", b"OggS", 0, flags, granule, 0x5EED, sequence, 0, len(lacing)
    )
    page = header + lacing + b"".join(packets)
    return page[:22] + struct.pack("<I", _crc(page)) + page[26:]


def silence(seconds: int) -> bytes:
    """`seconds` of silence as an OGG/Opus file (mono, 48 kHz)."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRE_SKIP, 48000, 0, 0)
    vendor = b"wegweiser-tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_page([head], flags=0x02, granule=0, sequence=0)]
    pages.append(_page([tags], flags=0, granule=0, sequence=1))
    frames = seconds * 50
    sequence, done = 2, 0
    while done < frames:
        count = min(50, frames - done)
        done += count
        last = done == frames
        pages.append(
            _page(
                [SILENCE] * count,
                flags=0x04 if last else 0,
                granule=PRE_SKIP + done * FRAME_SAMPLES,
                sequence=sequence,
            )
        )
        sequence += 1
    return b"".join(pages)
