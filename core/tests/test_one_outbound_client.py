"""Every outbound HTTP request the product makes goes through core/outbound.py: a test fails on any other
module that opens HTTP connections itself (urllib.request, http.client, requests, httpx, urllib3)."""

import os
import re
from pathlib import Path

from django.conf import settings

HTTP_CLIENTS = re.compile(
    r"^\s*(import|from)\s+(urllib\.request|urllib3|http\.client|requests|httpx)\b|urlopen\(", re.MULTILINE
)
# Not product code: tests and their stand-ins, benchmarks, developer scripts; the guarded client itself.
SKIP_DIRS = {"tests", "testsupport", "bench", "scripts", "migrations", "node_modules", "var", "static"}
CLIENT = Path("core/outbound.py")


def test_no_module_but_the_guarded_client_makes_http_requests():
    root = Path(settings.BASE_DIR)
    offenders = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            rel = (Path(folder) / name).relative_to(root)
            source = (root / rel).read_text("utf-8") if name.endswith(".py") else ""
            if rel != CLIENT and HTTP_CLIENTS.search(source):
                offenders.append(str(rel))
    assert offenders == [], f"use core.outbound.outbound_request instead of an HTTP library in {offenders}"
