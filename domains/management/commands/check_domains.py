"""check_domains: run the DNS checks now and print every result.

Inventory domains (all of them without --domain) are checked as the schedule does and the results are
stored. A name that is not in the inventory is checked the way a public DNS checker would (SPF against
--expect-ip, DKIM at --selector, DMARC, MX of the name itself) and nothing is stored.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from domains.checks import CheckResult, check_dkim, check_dkim_published, check_dmarc, check_mx, check_spf
from domains.models import InvalidDomainName, SendingDomain, normalise_domain
from domains.services import default_resolver, domain_check_run


class Command(BaseCommand):
    help = "Run DNS checks (SPF, DKIM, DMARC, MX, PTR) now and print each result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--domain", action="append", default=[], metavar="NAME", help="repeatable; default: every domain"
        )
        parser.add_argument("--selector", help="DKIM selector for a domain outside the inventory")
        parser.add_argument("--public-key", help="expected DKIM p= value (base64) for --selector")
        parser.add_argument(
            "--expect-ip", action="append", default=[], metavar="IP", help="IP that SPF must authorise"
        )
        parser.add_argument("--json", action="store_true", help="JSON lines, one per result")

    def handle(self, *args: Any, **options: Any) -> None:
        expect_ips = [_ip(value) for value in options["expect_ip"]]
        if options["public_key"] and not options["selector"]:
            raise CommandError("--public-key needs --selector")
        names = [_name(value) for value in options["domain"]]
        resolver = default_resolver()
        rows: list[tuple[str, CheckResult | Any]] = []
        if not names:
            domains = list(SendingDomain.objects.select_related("tenant").order_by("name"))
            if not domains:
                self.stderr.write("No domains in the inventory; pass --domain NAME to check any domain.")
            for domain in domains:
                rows.extend(
                    (domain.name, check) for check in domain_check_run(domain=domain, resolver=resolver)
                )
        inventory = {d.name: d for d in SendingDomain.objects.filter(name__in=names).select_related("tenant")}
        for name in names:
            if name in inventory:
                checks = domain_check_run(domain=inventory[name], resolver=resolver)
                rows.extend((name, check) for check in checks)
            else:
                rows.extend((name, result) for result in _outside_checks(name, resolver, options, expect_ips))
        for domain_name, result in rows:
            self._print(domain_name, _as_dict(result), as_json=options["json"])
        if rows and all(_as_dict(result)["status"] == "unknown" for _, result in rows):
            raise CommandError("DNS did not answer any query: check DNS_NAMESERVERS and retry")

    def _print(self, domain: str, row: dict[str, str], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"domain": domain, **row}))
            return
        self.stdout.write(f"{domain:<32} {row['check']:<13} {row['status']:<8} {row['explanation']}")
        for line in row["expected_record"].splitlines():
            self.stdout.write(f"{'':<32} {'':<13} {'publish':<8} {line}")


def _outside_checks(name: str, resolver, options: dict[str, Any], expect_ips: list[str]) -> list[CheckResult]:
    results = [check_spf(name, resolver=resolver, authorised_ips=expect_ips)]
    selector = options["selector"]
    if selector:
        if options["public_key"]:
            results.append(
                check_dkim(name, selector, resolver=resolver, public_key_b64=options["public_key"])
            )
        else:
            results.append(check_dkim_published(name, selector, resolver=resolver))
    results.append(check_dmarc(name, resolver=resolver))
    results.append(check_mx(name, resolver=resolver))
    return results


def _as_dict(result: Any) -> dict[str, str]:
    # A stored DomainCheck names its check "name"; a CheckResult calls it "check".
    check = result.check if isinstance(result, CheckResult) else result.name
    return {
        "check": check,
        "status": result.status,
        "explanation": result.explanation,
        "expected_record": result.expected_record,
    }


def _name(value: str) -> str:
    try:
        return normalise_domain(value)
    except InvalidDomainName as exc:
        raise CommandError(str(exc)) from None


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise CommandError(f"--expect-ip {value!r} is not an IP address") from None
