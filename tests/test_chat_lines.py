"""Lines of a web chat message: each its own direction, commands and links left to right."""

from __future__ import annotations

import pytest

from bot.web.chat_lines import isolated_pieces, paragraphs

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"


@pytest.mark.parametrize(
    ("line", "rtl", "direction"),
    [
        ("10:30 Uhr am 7.12., Raum 108. Bitte 2 Fotos mitbringen!", True, "ltr"),
        ("اكتب /privacy لترى ما نحفظه.", False, "rtl"),
        (f"{FSI}Amina{PDI} موعدك غدا", True, "rtl"),  # an isolated name does not decide
        (f"{FSI}Amina{PDI}، موعدك غدا", False, "rtl"),
        (f"📍 {FSI}Kreishaus Unna{PDI}", True, "rtl"),  # nothing outside: the message's
        (f"📍 {FSI}Kreishaus Unna{PDI}", False, "ltr"),
        ("10:30 ✅", True, "rtl"),
        ("", True, "rtl"),
        (f"{FSI}10:30 Uhr am 7.12.{PDI}", True, "ltr"),  # a line that is one isolated piece
        (f"{LRI}١٠:٣٠{PDI}", True, "ltr"),
        (f"  {FSI}Erinnerung an deinen Termin:", True, "ltr"),  # isolated over several lines
        (f"{FSI}Amina{PDI} {FSI}Coach{PDI}", True, "rtl"),
    ],
)
def test_each_line_takes_the_direction_of_its_first_letter(line, rtl, direction):
    [(found, _html)] = paragraphs(line, rtl)
    assert found == direction


def test_lines_of_a_message_are_paragraphs_each_in_its_direction():
    text = "✉️ رد من مدربك:\n10:30 Uhr am 7.12., Raum 108.\n\nلحذف كل شيء: /delete"
    assert [direction for direction, _ in paragraphs(text, True)] == ["rtl", "ltr", "rtl", "rtl"]


def test_commands_and_links_are_isolated_and_the_rest_escaped():
    html = str(isolated_pieces("<b>اكتب</b> /privacy أو https://example.org/x?a=1&b=2 10/12 a/b"))
    assert '<bdi dir="ltr">/privacy</bdi>' in html
    assert '<bdi dir="ltr">https://example.org/x?a=1&amp;b=2</bdi>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "10/12 a/b" in html  # a date or a path in a word is no command
