"""The documents in docs/ against the code: what they name must exist, what they state
must be what the code does, so a change to the code that makes them wrong fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.channels.webchat import MAX_ENTRIES
from bot.cli import _parser
from bot.outbox.dispatcher import CONSENT_WAIT
from bot.settings import Settings
from bot.web.admin.auth import SESSION_HOURS
from storage.models import Base
from storage.throttles import KEEP

ROOT = Path(__file__).parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PRIVACY = ROOT / "docs" / "datenschutz.md"
SETTINGS = {name.upper(): field for name, field in Settings.model_fields.items()}
# Upper-case names in docs/ that are no Wegweiser setting, each with the file it belongs to.
CODE_NAMES = {
    "KIND_LABELS": "bot/plumbing/labels.py",
    "PRIVACY_NOTICE": "bot/features/onboarding/chat.py",
    "CONSENT_WAIT": "bot/outbox/dispatcher.py",
    "MAX_ENTRIES": "bot/channels/webchat.py",
    "SESSION_HOURS": "bot/web/admin/auth.py",
    "KEEP": "storage/throttles.py",
    "POSTGRES_PASSWORD": "docker-compose.yml",
}
ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|`([A-Z][A-Z0-9]{2,})`")
# "see README, Operations": documents name nothing of another part that may not be there.
WORDS_OF_SHELL = {"VERSION"}  # a shell variable in docs/signal-cli.md's install steps


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _names(text: str) -> set[str]:
    text = re.sub(r"`[^`\n]*/[^`\n]*`", "", text)  # paths: locales/*/LC_MESSAGES/...
    return {match.group(1) or match.group(0) for match in ENV_NAME.finditer(text)}


def test_there_are_the_documents_the_kreis_needs():
    names = {path.name for path in DOCS}
    assert {"reverse-proxy.md", "botfather.md", "signal-cli.md", "datenschutz.md"} <= names


@pytest.mark.parametrize("path", [*DOCS, ROOT / ".env.example"], ids=lambda p: p.name)
def test_every_variable_named_is_a_setting_or_the_code_it_cites(path):
    unknown = set()
    for name in _names(_text(path)):
        if name in SETTINGS or name in WORDS_OF_SHELL:
            continue
        source = CODE_NAMES.get(name)
        if source is None or not re.search(rf"\b{name}\b", _text(ROOT / source)):
            unknown.add(name)
    assert not unknown, f"{path.name} names {sorted(unknown)}: neither a setting nor in the code"


def test_every_variable_of_the_env_example_is_a_setting():
    assigned = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", _text(ROOT / ".env.example"), re.M)
    assert len(assigned) >= 8
    assert set(assigned) - set(SETTINGS) == {"POSTGRES_PASSWORD"}


def _default(name: str) -> object:
    return SETTINGS[name].get_default(call_default_factory=True)


def test_every_default_stated_is_the_settings_default():
    stated = []
    for path in DOCS:
        text = _text(path)
        stated += re.findall(r"`([A-Z_]+)` \(Standard: (\d+)", text)  # prose
        stated += re.findall(r"^\| `([A-Z_]+)` \| (\d+) \|", text, re.M)  # tables
    assert len(stated) >= 5, stated
    wrong = [(name, value) for name, value in stated if str(_default(name)) != value]
    assert not wrong, f"defaults in docs/ differ from bot/settings.py: {wrong}"


def test_the_retention_periods_are_the_codes():
    text = _text(PRIVACY)
    assert f"Anmeldungen: {SESSION_HOURS} Stunden" in text
    assert f"| {KEEP.days} Tag |" in text
    assert f"nach {CONSENT_WAIT.days} Tagen ohne Zustimmung" in text
    assert f"höchstens {MAX_ENTRIES} Einträge je Chat" in text
    assert f"Verlauf {_default('WEBCHAT_RETENTION_DAYS')} Tage" in text
    jobs = _text(ROOT / "bot/outbox/jobs.py")
    hour, minute = re.search(
        r"\"outbox retention\"\),\s*CronTrigger\(hour=(\d+), minute=(\d+)", jobs
    ).groups()
    assert f"täglich um {int(hour):02}:{int(minute):02} Uhr" in text


def test_every_table_is_in_the_data_protection_sheet():
    """A new table must be described (what, why, how long) before it ships."""
    text = _text(PRIVACY)
    missing = [table for table in Base.metadata.tables if f"`{table}`" not in text]
    assert not missing, f"docs/datenschutz.md does not describe {missing}"
    tables = text.split("## 2.")[1].split("## 3.")[0]
    named = re.findall(r"\(`([A-Z][a-z]\w+)`(?:, `([A-Z][a-z]\w+)`)?\)", tables)
    classes = {c for pair in named for c in pair if c}
    models = {mapper.class_.__name__ for mapper in Base.registry.mappers}
    assert len(classes) >= 10 and classes <= models, classes - models


def test_what_erasure_deletes_is_what_the_sheet_says():
    erasure = _text(ROOT / "storage/erasure.py")
    deleted = set(re.findall(r"delete\((\w+)\)", erasure))
    assert deleted == {
        "OutboxMessage",
        "ChannelIdentity",
        "Invite",
        "Appointment",
        "Enrolment",
        "HandoverRequest",
        "CoachMessage",
        "WebChatEntry",
        "SignalMenu",
        "VoiceMessage",
    }, "erasure changed: update section 6 of docs/datenschutz.md and this list"
    section = _text(PRIVACY).split("## 6.")[1].split("## 7.")[0]
    for words in (
        "verbundene Chats",
        "Einladungen",
        "Termine mit Antworten und Absagegründen",
        "Kursteilnahmen",
        "geplante\nBenachrichtigungen",
        "Übergabewünsche",
        "Nachrichten mit dem Coach",
        "Web-Chat-Verlauf",
        "Signal-Auswahl",
    ):
        assert words in section, words


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_file_and_name_cited_exists(path):
    """`bot/x.py` (`name`, `Class.attr`): the file exists and holds each name."""
    text = _text(path)
    cited = re.findall(r"`((?:bot|storage|docs|locales)/[\w/.*-]+)`((?: \([^)]*\))?)", text)
    assert cited or path.name != "datenschutz.md"
    for file, names in cited:
        matches = list(ROOT.glob(file))
        assert matches, f"{path.name} cites {file}, which does not exist"
        source = "".join(_text(match) for match in matches if match.is_file())
        for name in re.findall(r"`([\w.]+)`", names):
            for part in name.split("."):
                assert re.search(rf"\b{part}\b", source), f"{path.name}: {name} not in {file}"


def _commands() -> dict[str, set[str]]:
    """Each subcommand of `wegweiser` and its own subcommands."""
    (commands,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    tree = {}
    for name, parser in commands.choices.items():
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        tree[name] = set(subs[0].choices) if subs else set()
    return tree


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_command_named_exists(path):
    commands = _commands()
    named = re.findall(r"\bwegweiser ([a-z][\w-]*)(?: ([a-z][\w-]*))?", _text(path))
    for command, sub in named:
        assert command in commands, f"{path.name}: `wegweiser {command}` does not exist"
        if commands[command]:
            assert sub in commands[command], f"{path.name}: `wegweiser {command} {sub}`"


def test_the_command_menu_named_is_the_one_the_bot_publishes():
    from bot.channels.telegram import PUBLISHED
    from bot.features import FEATURES
    from bot.plumbing.routes import Routes

    published = {c.name for c in Routes(FEATURES).listed_commands(PUBLISHED)}
    section = _text(ROOT / "docs" / "botfather.md").split("## 3.")[1].split("## 4.")[0]
    named = set(re.findall(r"`/(\w+)`", section)) - {"setcommands"}  # BotFather's own
    assert len(named) >= 5 and named <= published, named - published


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_links_between_documents_lead_somewhere(path):
    for target in re.findall(r"\]\(([\w.-]+\.md)\)", _text(path)):
        assert (path.parent / target).is_file(), f"{path.name} links to {target}"


def test_the_readme_links_every_document():
    readme = _text(ROOT / "README.md")
    for path in DOCS:
        assert f"(docs/{path.name})" in readme, f"README.md does not link docs/{path.name}"
