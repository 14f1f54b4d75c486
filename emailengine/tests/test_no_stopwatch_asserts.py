"""Speed belongs in bench/, never in a test's assertion: a stopwatch assert fails on a busy CI machine."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns", "time_ns"}


def _reads_a_clock(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            owner = sub.func.value
            if sub.func.attr in CLOCKS and isinstance(owner, ast.Name) and owner.id == "time":
                return True
    return False


def _test_files() -> list[Path]:
    skip = {".venv", "var", "node_modules", ".git"}
    return [p for p in ROOT.rglob("test_*.py") if not skip & set(p.relative_to(ROOT).parts)]


def test_it_finds_the_test_modules() -> None:
    assert len(_test_files()) > 100


def test_it_has_no_assertion_on_a_stopwatch() -> None:
    offenders = []
    for path in _test_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and _reads_a_clock(node.test):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "timed assertions (move the figure to a bench/ script): " + ", ".join(offenders)


def test_it_would_catch_one() -> None:
    tree = ast.parse("started = 0\nassert time.monotonic() - started < 2\n")
    assert any(isinstance(n, ast.Assert) and _reads_a_clock(n.test) for n in ast.walk(tree))
