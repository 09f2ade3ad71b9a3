"""How the web chat shows a message's text: one paragraph per line, each in its own direction.

A right-to-left message may hold left-to-right lines (a coach's German answer, the German line
of the bilingual mode) and left-to-right pieces (commands, links). Each line gets the
direction of its first strong letter outside isolated pieces (UAX #9 rules P2 and P3, as
`unicode-bidi: plaintext` does), or the message's direction when it has none ("10:30", "✅");
commands and links are isolated left-to-right, so "/privacy" keeps its slash in front.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}  # LRI, RLI, FSI
_ISOLATE_CLOSE = "\u2069"  # PDI
_LTR_PIECE = re.compile(r"(?<![\w/])/[A-Za-z][A-Za-z_]*|https?://\S+")


def first_strong(line: str) -> str | None:
    """The direction ("ltr", "rtl") of the first strong letter outside isolates, or None."""
    depth = 0
    for char in line:
        if char in _ISOLATE_OPEN:
            depth += 1
        elif char == _ISOLATE_CLOSE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return None


def isolated_pieces(line: str) -> Markup:
    """The line as HTML with each command and link in a left-to-right <bdi>."""
    parts: list[str] = []
    last = 0
    for found in _LTR_PIECE.finditer(line):
        parts.append(escape(line[last : found.start()]))
        parts.append(Markup('<bdi dir="ltr">{}</bdi>').format(found.group()))
        last = found.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


def isolated_whole(line: str) -> str | None:
    """The direction of a line that is one isolated piece (a coach's text or a German line
    isolated in the text itself, perhaps over several lines): its inside's, or None."""
    body = line.strip()
    if not body or body[0] not in _ISOLATE_OPEN:
        return None
    inner = body[1:]
    depth = 1
    for at, char in enumerate(inner):
        depth += char in _ISOLATE_OPEN
        depth -= char == _ISOLATE_CLOSE
        if depth == 0 and inner[at + 1 :].strip():
            return None  # the piece ends before the line does
    if body[0] == "\u2066":
        return "ltr"
    if body[0] == "\u2067":
        return "rtl"
    return first_strong(inner.rstrip(_ISOLATE_CLOSE))


def paragraphs(text: str, rtl: bool) -> list[tuple[str, Markup]]:
    """Each line of `text` with its direction, ready for <p dir=...>."""
    fallback = "rtl" if rtl else "ltr"
    return [
        (first_strong(line) or isolated_whole(line) or fallback, isolated_pieces(line))
        for line in text.split("\n")
    ]
