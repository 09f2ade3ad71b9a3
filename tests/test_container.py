"""The container files as a Kreis's IT department gets them: what the image and the compose
file promise, read from the files (`.ci/image` builds and smoke-runs the image itself)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()
SETTINGS = {name.upper() for name in Settings.model_fields}


def _instructions(name: str) -> list[str]:
    """Each Dockerfile instruction of that name, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line for line in joined.splitlines() if line.startswith(name + " ")]


def test_the_image_installs_the_wheel_not_the_checkout():
    (install,) = [line for line in _instructions("RUN") if "pip install" in line]
    assert " -e " not in install and "--editable" not in install
    assert re.search(r"pip install .*-c requirements\.lock \.( |$)", install)


def test_code_and_catalogs_are_not_the_app_users():
    """The venv (code, compiled catalogs) is copied as root; the app user writes /data only."""
    (user,) = _instructions("USER")
    assert user.split()[1] not in {"root", "0"}
    copies = _instructions("COPY")
    assert any("--from=build /opt/wegweiser" in line for line in copies)
    assert not any("--chown" in line for line in copies)
    assert not any(re.search(r"chown[^&;]*/opt", line) for line in _instructions("RUN"))


def test_the_healthcheck_asks_readyz_on_the_configured_port_after_a_start_period():
    (health,) = _instructions("HEALTHCHECK")
    assert "/readyz" in health and "WEB_PORT" in health and "8080/" not in health
    assert re.search(r"--start-period=\d+s", health)


def test_the_image_needs_web_base_url(monkeypatch):
    """WEB_HOST=0.0.0.0 as the image sets it: without WEB_BASE_URL, one line naming it."""
    (env,) = [line for line in _instructions("ENV") if "WEB_HOST" in line]
    host = re.search(r"WEB_HOST=(\S+)", env).group(1)
    monkeypatch.delenv("WEB_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match=r"^WEB_BASE_URL: required when WEB_HOST is 0\.0\.0\.0"):
        load_settings(web_host=host, _env_file=None)
    assert (
        load_settings(
            web_host=host, web_base_url="https://wegweiser.example.org", _env_file=None
        ).public_web_url
        == "https://wegweiser.example.org"
    )


def test_the_build_context_leaves_out_local_and_secret_files():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"**/.venv", ".git", "**/*.db", "**/*.db-wal", ".env", "**/__pycache__"} <= ignored


def test_compose_takes_the_password_and_the_settings_from_an_uncommitted_env_file():
    assert "POSTGRES_PASSWORD: wegweiser" not in COMPOSE
    assert not re.search(r"postgresql\+asyncpg://\w+:\w+@", COMPOSE)  # no literal password
    uses = re.findall(r"\$\{(\w+)", COMPOSE)
    assert {"POSTGRES_PASSWORD", "WEB_BASE_URL"} <= set(uses)
    assert set(uses) <= SETTINGS | {"POSTGRES_PASSWORD"}
    # Required: compose stops with the message when .env lacks them.
    assert re.search(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", COMPOSE)
    assert re.search(r"\$\{WEB_BASE_URL:\?[^}]+\}", COMPOSE)
    example = (ROOT / ".env.example").read_text()
    for name in (
        "POSTGRES_PASSWORD",
        "WEB_BASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_USERNAME",
    ):
        assert re.search(rf"^{name}=", example, re.M), name


def test_the_env_file_is_never_committed():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot ask git what it ignores")
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False, capture_output=True
    )
    assert result.returncode == 0, ".env is not in .gitignore"
    example = subprocess.run(
        ["git", "check-ignore", "-q", ".env.example"], cwd=ROOT, check=False, capture_output=True
    )
    assert example.returncode == 1, ".env.example must be committed"
