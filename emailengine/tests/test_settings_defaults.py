"""Every setting's default lives in emailengine/settings.py: app code reads settings.X and never carries a
default of its own (getattr(settings, "X", default) would let two defaults drift apart)."""

import ast
from pathlib import Path

from django.conf import settings

from emailengine.tests.test_layering import FLOORS, NOT_APP_CODE


def _defaults_outside_settings(root: Path) -> list[str]:
    found = []
    for app in FLOORS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if NOT_APP_CODE & set(rel.parts) or rel == Path("emailengine/settings.py"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "getattr"
                    and len(node.args) == 3
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id == "settings"
                ):
                    found.append(f"{rel}:{node.lineno}")
    return found


def test_it_keeps_setting_defaults_in_settings_py():
    assert _defaults_outside_settings(Path(settings.BASE_DIR)) == []


def test_it_finds_a_default_outside_settings(tmp_path):
    (tmp_path / "ips").mkdir()
    source = 'from django.conf import settings\nN = getattr(settings, "N", 3)\n'
    (tmp_path / "ips" / "x.py").write_text(source)
    assert _defaults_outside_settings(tmp_path) == ["ips/x.py:2"]
