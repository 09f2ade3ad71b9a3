"""Print `name==lowest` for the named dependencies of pyproject.toml: pip constraints that
install the lowest versions the project declares (`python .ci/lowest.py SQLAlchemy ...`)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def lowest(names: list[str]) -> list[str]:
    """One constraint per name, from its `>=` bound; an error if it has none."""
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    declared = [Requirement(line) for line in project["project"]["dependencies"]]
    by_name = {canonicalize_name(r.name): r for r in declared}
    constraints = []
    for name in names:
        requirement = by_name[canonicalize_name(name)]
        [bound] = [s.version for s in requirement.specifier if s.operator == ">="]
        constraints.append(f"{requirement.name}=={bound}")
    return constraints


if __name__ == "__main__":
    print("\n".join(lowest(sys.argv[1:])))
