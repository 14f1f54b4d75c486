"""Every CSV the product writes goes through core.csv_safe: a raw csv.writer in app code fails this test."""

import os
import re
from pathlib import Path

from django.conf import settings

RAW_WRITER = re.compile(r"\bcsv\s*\.\s*(writer|DictWriter)\s*\(")
# Not product output: tests, stand-ins, benchmarks (they generate PMTA's own files), the helper itself.
SKIP_DIRS = {"tests", "testsupport", "bench", "migrations", ".venv", "node_modules", "var", "static"}
HELPER = Path("core/csv_safe.py")


def test_no_app_module_writes_csv_without_the_formula_rule():
    root = Path(settings.BASE_DIR)
    offenders = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            rel = (Path(folder) / name).relative_to(root)
            source = (root / rel).read_text(encoding="utf-8") if name.endswith(".py") else ""
            if rel != HELPER and RAW_WRITER.search(source):
                offenders.append(str(rel))
    assert offenders == [], f"use core.csv_safe.csv_writer / csv_stream instead of csv.writer in {offenders}"
