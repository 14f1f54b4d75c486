"""ARCHITECTURE.md's picture is the code's picture: imports between apps go one way, down the floors.

    core <- tenants <- ips <- domains <- {reputation, campaigns} <- {hygiene, mailwizz, warmup}
    (emailengine on top)

An app imports only itself and apps on lower floors: never one on its own floor (no sideways coupling) or
above it (no cycles). Every import counts, at module level or inside a function, typing-only or not.
Tests and migrations are not app code (a test may build another app's objects; a migration names history).
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

FLOORS = {
    "core": 0,
    "tenants": 1,
    "ips": 2,
    "domains": 3,
    "reputation": 4,
    "campaigns": 4,
    "hygiene": 5,
    "mailwizz": 5,
    "warmup": 5,
    "emailengine": 6,
}
NOT_APP_CODE = {"tests", "migrations"}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def _violations(root: Path) -> list[str]:
    problems = []
    for app, floor in FLOORS.items():
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if NOT_APP_CODE & set(rel.parts):
                continue
            for line, module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
                if module.startswith("."):
                    continue  # relative imports stay inside the app
                top = module.split(".")[0]
                if top == app or top not in FLOORS:
                    continue
                if FLOORS[top] >= floor:
                    where = "its own floor" if FLOORS[top] == floor else "a higher floor"
                    problems.append(f"{rel}:{line}: {app} imports {module} ({where})")
    return problems


def test_it_imports_only_down_the_floors():
    assert _violations(Path(settings.BASE_DIR)) == []


def test_it_places_every_project_app_on_a_floor():
    root = Path(settings.BASE_DIR).resolve()
    ours = {c.name for c in apps.get_app_configs() if Path(c.path).resolve().parent == root}
    assert ours == set(FLOORS), "add the new app to FLOORS here and to ARCHITECTURE.md's picture"


def test_it_catches_an_import_up_or_across(tmp_path):
    (tmp_path / "ips").mkdir()
    (tmp_path / "ips" / "limits.py").write_text("from warmup.models import IPWarmup\n")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "stats.py").write_text("def f():\n    import reputation.models\n")
    (tmp_path / "campaigns" / "tests").mkdir()
    (tmp_path / "campaigns" / "tests" / "test_x.py").write_text("import warmup\n")
    assert _violations(tmp_path) == [
        "ips/limits.py:1: ips imports warmup.models (a higher floor)",
        "campaigns/stats.py:2: campaigns imports reputation.models (its own floor)",
    ]
