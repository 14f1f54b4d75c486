#!/usr/bin/env python3
"""Advisory check of the pinned dependencies (CI runs it; what pip-audit's PyPI service does, stdlib only).

For every exact pin in pyproject.toml (dependencies and optional groups), PyPI's JSON API says which known
vulnerabilities affect that release: ``GET /pypi/<name>/<version>/json`` -> ``vulnerabilities`` (PyPI fills it
from the PyPA advisory database and OSV; each entry has an id, aliases such as CVE/GHSA, ``fixed_in`` and
``withdrawn``). Where an index serves only the project document (``/pypi/<name>/json``, whose
``vulnerabilities`` are those of the latest release), a pin equal to the latest release is checked from it
and any other pin is reported as not checked.

Exit status: 0 clean; 1 a pinned release has a (not withdrawn) advisory; 2 the index could not be asked, or
``--strict`` and some pin could not be checked. ``--json`` prints one summary object.

    python scripts/audit_deps.py [--index-url https://pypi.org] [--strict] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;,]+)")
TIMEOUT = 20


def pins(pyproject: Path) -> list[tuple[str, str]]:
    """(name, version) of every ``name==version`` requirement; anything else is refused as unpinned."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        requirements.extend(group)
    found = []
    for requirement in requirements:
        match = PIN.match(requirement)
        if not match:
            raise SystemExit(f"not an exact pin, cannot be audited: {requirement!r}")
        found.append((match.group(1).lower(), match.group(3)))
    return sorted(set(found))


def _get(url: str) -> dict[str, Any] | None:
    """The JSON document, or None for a 404; other failures raise OSError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise OSError(f"HTTP {exc.code} from {url}") from None


def _live(vulns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": v.get("id"), "aliases": v.get("aliases", []), "fixed_in": v.get("fixed_in", [])}
        for v in vulns
        if not v.get("withdrawn")
    ]


def audit(index: str, name: str, version: str) -> dict[str, Any]:
    base = index.rstrip("/")
    release = _get(f"{base}/pypi/{name}/{version}/json")
    if release is not None:
        return {
            "name": name,
            "version": version,
            "checked": True,
            "vulns": _live(release.get("vulnerabilities", [])),
        }
    project = _get(f"{base}/pypi/{name}/json")
    if project is None:
        return {"name": name, "version": version, "checked": False, "note": "not on the index"}
    latest = project.get("info", {}).get("version")
    if latest == version:
        return {
            "name": name,
            "version": version,
            "checked": True,
            "vulns": _live(project.get("vulnerabilities", [])),
        }
    return {
        "name": name,
        "version": version,
        "checked": False,
        "note": f"the index serves no per-release document and {latest} is the latest release",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", default="https://pypi.org")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--strict", action="store_true", help="fail when a pin cannot be checked")
    parser.add_argument("--json", action="store_true", dest="as_json")
    args = parser.parse_args(argv)
    try:
        results = [audit(args.index_url, name, version) for name, version in pins(args.pyproject)]
    except OSError as exc:
        print(f"audit_deps: cannot ask {args.index_url}: {exc}", file=sys.stderr)
        return 2
    vulnerable = [r for r in results if r.get("vulns")]
    unchecked = [r for r in results if not r["checked"]]
    if args.as_json:
        print(json.dumps({"results": results, "vulnerable": len(vulnerable), "unchecked": len(unchecked)}))
    else:
        for r in vulnerable:
            for v in r["vulns"]:
                fixed = ", ".join(v["fixed_in"]) or "no fixed release yet"
                aliases = ", ".join(v["aliases"])
                print(f"VULNERABLE {r['name']}=={r['version']}: {v['id']} ({aliases}); fixed in {fixed}")
        for r in unchecked:
            print(f"not checked {r['name']}=={r['version']}: {r['note']}")
        checked = len(results) - len(unchecked)
        counts = f"{checked} checked, {len(vulnerable)} vulnerable, {len(unchecked)} not checked"
        print(f"{len(results)} pins: {counts}")
    if vulnerable:
        return 1
    return 2 if unchecked and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
