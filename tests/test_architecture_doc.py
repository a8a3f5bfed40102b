"""ARCHITECTURE.md names every module of the package, so the map a newcomer reads stays whole."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree_entries() -> set[str]:
    """The paths the module tree in ARCHITECTURE.md draws, relative to the package."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    entries: set[str] = set()
    stack: list[str] = []
    for line in text.splitlines():
        match = re.match(r"^((?:│   |    )*)(?:├── |└── )(\S+)", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4
        name = match.group(2)
        del stack[depth:]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
        else:
            entries.add("/".join([*stack, name]))
    return entries


def test_every_module_of_the_package_is_in_the_architecture_map() -> None:
    package = ROOT / "asrtui"
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    entries = _tree_entries()
    assert modules - entries == set(), "modules missing from ARCHITECTURE.md"
    assert {entry for entry in entries if entry.endswith(".py")} - modules == set(), (
        "ARCHITECTURE.md names modules that do not exist"
    )
