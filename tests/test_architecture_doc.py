"""docs/architecture.md stays true to the tree: every relative link it makes resolves, and every
top-level module and package of ecolint/ has its line there."""

from __future__ import annotations

import re

from conftest import REPO

DOC = REPO / "docs" / "architecture.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def links() -> list[str]:
    return [target for target in LINK.findall(DOC.read_text(encoding="utf-8")) if "://" not in target]


def test_every_relative_link_resolves() -> None:
    broken = [target for target in links() if not (DOC.parent / target).exists()]
    assert not broken, f"docs/architecture.md links to missing files: {broken}"


def test_every_module_of_the_package_is_described() -> None:
    linked = {(DOC.parent / target).resolve() for target in links()}
    package = REPO / "ecolint"
    modules = [path for path in package.glob("*.py") if not path.name.startswith("__")]
    packages = [path for path in package.iterdir() if (path / "__init__.py").is_file()]
    missing = sorted(p.relative_to(REPO).as_posix() for p in modules + packages if p.resolve() not in linked)
    assert not missing, f"modules without a line in docs/architecture.md: {missing}"
