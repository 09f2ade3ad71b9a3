"""A wheel, not the checkout: built from the files git knows (as a fresh clone has them),
installed into a new venv in a temporary folder, and run from a folder outside the checkout.

Slow (about half a minute: a build and a venv with every dependency), so marked `slow`;
skipped, with the reason, when no package registry answers.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.i18n import LANGUAGES
from tests.helpers import tr

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _tracked_files() -> list[str]:
    """Tracked and new, not ignored: what a clone of this work tree would hold."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot tell which files a clone holds")
    listed = _run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def _clean_env() -> dict[str, str]:
    """The environment without this checkout's venv or the suite's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DATABASE_URL"}
        and not key.startswith(("WEGWEISER_", "TELEGRAM_", "SIGNAL_", "WEB_"))
    }
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if not part.startswith(str(ROOT))
    )
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the tracked files (no .mo, no egg-info, no build/)."""
    base = tmp_path_factory.mktemp("packaging")
    # The build needs setuptools and babel from the registry; without one this cannot run.
    download = "download -q --no-deps --timeout 15 --retries 1 -d".split()
    probe = _run([*PIP, *download, str(base / "probe"), "setuptools>=77"])
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"no package registry to build and install a wheel from: {last}")
    source = base / "source"
    for name in _tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    assert not list(source.glob("locales/*/LC_MESSAGES/*.mo"))  # as a fresh clone has it
    built = _run([*PIP, "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(source)])
    assert built.returncode == 0, built.stdout + built.stderr
    [path] = (base / "dist").glob("wegweiser-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel and the locked dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    # By file name, so no project of the same name on the registry can stand in for it.
    pip = [str(venv / "bin/python"), "-m", "pip", "--disable-pip-version-check"]
    install = _run(
        [*pip, "install", "-q", "-c", str(ROOT / "requirements.lock"), str(wheel)],
        env=_clean_env(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A folder outside the checkout to run the installed command in."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def test_the_wheel_carries_catalogs_templates_static_files_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = _tracked_files()
    # Every file of the packages that is not Python: templates, fonts, demo content, mako.
    data = [n for n in tracked if n.startswith(("bot/", "storage/")) and not n.endswith(".py")]
    assert data and [n for n in data if n not in names] == []
    migrations = [n for n in tracked if n.startswith("storage/migrations/versions/")]
    assert migrations and [n for n in migrations if n not in names] == []
    catalogs = [n for n in tracked if re.fullmatch(r"locales/[^/]+/LC_MESSAGES/\w+\.po", n)]
    assert len(catalogs) >= len(LANGUAGES)
    for po in catalogs:
        assert f"bot/{po}" in names
        assert f"bot/{po.removesuffix('.po')}.mo" in names  # compiled when the wheel was built
    assert {"bot/locales/messages.pot", "bot/locales/admin.pot"} <= names
    assert not [n for n in names if n.startswith(("tests/", "locales/"))]
    print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e6:.2f} MB, {len(names)} files")


def test_version_comes_from_the_installed_metadata(installed, workdir):
    shown = _run([str(installed / "bin/wegweiser"), "--version"], cwd=workdir, env=_clean_env())
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"wegweiser {VERSION}"
    where = _run(
        [str(installed / "bin/python"), "-c", "import bot.i18n as m; print(m.LOCALES_DIR)"],
        cwd=workdir,
        env=_clean_env(),
    )
    assert Path(where.stdout.strip()).is_relative_to(installed)  # not the checkout's locales/


def test_i18n_report_runs_from_the_installed_catalogs(installed, workdir):
    report = _run(
        [str(installed / "bin/wegweiser"), "i18n", "report"], cwd=workdir, env=_clean_env()
    )
    assert report.returncode == 0, report.stdout + report.stderr
    for language in LANGUAGES:
        assert re.search(rf"^{language.code} +\d+/\d+ +100\.0%  0 problems$", report.stdout, re.M)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def test_the_demo_speaks_arabic_from_the_wheel(installed, workdir):
    port = _free_port()
    demo = subprocess.Popen(
        [str(installed / "bin/wegweiser"), "demo", "--port", str(port)],
        cwd=workdir,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "Stop with Ctrl+C.":
            line = demo.stdout.readline()
            assert line, "the demo ended before it was up:\n" + "".join(lines)
            lines.append(line.rstrip("\n"))
        [token, *_] = re.findall(r"/start (\S+)", "\n".join(lines))
        assert (workdir / "wegweiser-demo.db").exists()  # migrated here, not in the checkout
        url = f"http://127.0.0.1:{port}"
        headers = {"accept-language": "ar"}
        with httpx.Client(
            base_url=url, headers=headers, trust_env=False, timeout=10, follow_redirects=True
        ) as web:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if web.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the demo did not answer in 30 s"
                time.sleep(0.2)
            assert web.get("/static/fonts/arabic.woff2").status_code == 200
            assert web.get("/admin/login").status_code == 200  # the staff web's templates
            page = web.get("/chat").text
            page = web.post("/chat", data={"csrf": _csrf(page), "start": token}).text
            assert 'value="lang:ar"' in page
            entry = re.findall(r'data-entry="(\d+)"', page)[-1]
            page = web.post("/chat", data={"csrf": _csrf(page), "cb": "lang:ar", "entry": entry})
            # The privacy notice in Arabic, as the checkout's catalog has it, not in English.
            assert tr("ar", PRIVACY_NOTICE).split("\n")[0] in page.text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        if demo.stdout is not None:
            demo.stdout.close()
