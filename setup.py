"""Build hook: a wheel carries the gettext catalogs as `bot/locales`, compiled.

Everything else is configured in pyproject.toml. The catalogs stay in `locales/` at the
top of the checkout, where `pybabel` and `locales/update.sh` work on them; an editable
install reads them there and compiles its `.mo` files on first use (bot/i18n.py). A wheel
gets a copy of the `.po` and `.pot` files inside the package and the `.mo` files compiled
here, since site-packages may be read-only at run time.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
CATALOGS = ("*.pot", "*/LC_MESSAGES/*.po")


class build_py_with_catalogs(build_py):
    """build_py, then `locales/` into the built package, with `.mo` files compiled."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the checkout's locales/ is read in place
            return
        target = Path(self.build_lib) / "bot" / "locales"
        shutil.rmtree(target, ignore_errors=True)
        for pattern in CATALOGS:
            for source in sorted((ROOT / "locales").glob(pattern)):
                destination = target / source.relative_to(ROOT / "locales")
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
        # The compiler the app uses at run time, loaded without importing the bot package.
        spec = importlib.util.spec_from_file_location("_wegweiser_i18n", ROOT / "bot/i18n.py")
        assert spec is not None and spec.loader is not None
        i18n = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = i18n  # dataclasses look their module up there
        spec.loader.exec_module(i18n)
        written = i18n.compile_catalogs(target)
        print(f"compiled {written} message catalogs into {target}")


setup(cmdclass={"build_py": build_py_with_catalogs})
