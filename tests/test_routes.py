"""Route tables: callback data is parsed once and never raises, whatever arrives."""

from __future__ import annotations

import random
import string

import pytest

from bot.features import FEATURES
from bot.plumbing.routes import MAX_ID, Feature, Press, Routes, ident


async def _noop(*_args: object) -> list:
    return []


def test_ids_are_ascii_digits_in_a_32_bit_range():
    assert ident("1") == 1 and ident(str(MAX_ID)) == MAX_ID
    for bad in ("0", "-1", str(MAX_ID + 1), "²", "①", "٣", "1 ", " 1", "0x10", "1e3", ""):
        with pytest.raises(ValueError):
            ident(bad)


def test_every_route_parses_its_own_shape():
    routes = Routes(FEATURES)
    assert isinstance(routes.parse_button("ap:c:12"), Press)
    assert routes.parse_button("ap:c:12").args == (12,)
    assert routes.parse_button("ap:d:12:4").args == (12, 4)
    assert routes.parse_button("ap:i:all").args == ("all",)
    assert routes.parse_button("ap:dd:3").route.prefix == "ap:dd"
    assert routes.parse_button("lang:fa_AF").args == ("fa_AF",)
    assert routes.parse_button("pv:ok:ar").args == ("ar",)
    assert routes.parse_button("mn:menu").args == ()
    # The right prefix with bad arguments: the route, to answer in its own words.
    assert routes.parse_button("ap:c:²") is routes.buttons["ap:c"]
    assert routes.parse_button("zz:1") is None


def test_random_data_never_raises():
    routes = Routes(FEATURES)
    rng = random.Random(20261125)
    alphabet = string.printable + "²①٣:::\u0000\u202e"
    prefixes = [*routes.buttons, "", "ap", "co"]
    for _ in range(5000):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        data = rng.choice(prefixes) + rng.choice(["", ":"]) + noise
        parsed = routes.parse_button(data)
        assert parsed is None or isinstance(parsed, Press) or parsed in routes.buttons.values()


def test_a_route_declared_twice_is_a_wiring_error():
    from bot.plumbing.routes import ButtonRoute, Command

    with pytest.raises(ValueError, match="declared twice"):
        Routes(
            [
                Feature("a", buttons=[ButtonRoute("x:y", _noop)]),
                Feature("b", buttons=[ButtonRoute("x:y", _noop)]),
            ]
        )
    with pytest.raises(ValueError, match="declared twice"):
        Routes(
            [
                Feature("a", commands=[Command("help", "Help", _noop)]),
                Feature("b", commands=[Command("help", "Help", _noop)]),
            ]
        )
