import json
import time
from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emailengine.scale import PREFIX, ScaleSize, scale_build, scale_exists, scale_wipe

# `--small`: every table gets rows, in seconds (tests such as the layout migration test use it).
SMALL = {"tenants": 3, "ips": 40, "domains": 10, "days": 5}


class Command(BaseCommand):
    help = (
        "Create production-scale synthetic data for the dashboard benchmark (100 tenants, 5,000 IPs, "
        f"2,000 domains, 90 days of stats by default). Everything it makes is named '{PREFIX}...'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        default = ScaleSize()
        parser.add_argument("--tenants", type=int, default=default.tenants)
        parser.add_argument("--ips", type=int, default=default.ips)
        parser.add_argument("--pools", type=int, help="default: ips / 16.7 (300 for 5,000 IPs), at least 1")
        parser.add_argument("--servers", type=int, help="default: 20, fewer for small runs")
        parser.add_argument("--domains", type=int, default=default.domains)
        parser.add_argument("--days", type=int, default=default.days, help="days of daily stats")
        parser.add_argument(
            "--rcpt-domains", type=int, default=default.rcpt_domains, help="daily stat rows per IP and day"
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help="a few rows of every kind for tests: " + ", ".join(f"--{k} {v}" for k, v in SMALL.items()),
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (the data is deterministic)")
        parser.add_argument("--force", action="store_true", help="wipe the existing scale data first")
        parser.add_argument("--wipe", action="store_true", help="only wipe the existing scale data")
        parser.add_argument("--json", action="store_true", help="print one JSON summary object")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        if options["small"]:
            options |= SMALL
        for name in ("tenants", "ips", "domains", "days", "rcpt_domains"):
            if options[name] < (1 if name in ("tenants", "days", "rcpt_domains") else 0):
                raise CommandError(f"--{name.replace('_', '-')} is too small: {options[name]}")
        wiped: dict[str, int] = {}
        if options["wipe"] or options["force"]:
            wiped = scale_wipe()
        elif scale_exists():
            raise CommandError(
                f"Scale data already exists (tenants named {PREFIX}*). Run with --force to rebuild it."
            )
        summary: dict = {"wiped": wiped}
        if not options["wipe"]:
            size = _size(options)
            summary |= scale_build(size, seed=options["seed"])
        summary["total_seconds"] = round(time.perf_counter() - started, 1)
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        if sum(wiped.values()):
            self.stdout.write(f"Wiped: {sum(wiped.values()):,} rows of earlier scale data.")
        for key, value in summary.get("counts", {}).items():
            self.stdout.write(f"  {key:<18} {value:>10,}")
        steps = ", ".join(f"{k} {v}s" for k, v in summary.get("seconds", {}).items())
        if steps:
            self.stdout.write(f"Timing: {steps}")
        self.stdout.write(self.style.SUCCESS(f"Done in {summary['total_seconds']} s."))


def _size(options: dict) -> ScaleSize:
    ips = options["ips"]
    pools = options["pools"] or max(1, min(300, round(ips * 300 / 5000)))
    servers = options["servers"] or max(1, min(20, pools // 15 or 1))
    return replace(
        ScaleSize(),
        tenants=options["tenants"],
        ips=ips,
        pools=pools,
        servers=servers,
        domains=options["domains"],
        days=options["days"],
        rcpt_domains=options["rcpt_domains"],
        audit_events=min(ScaleSize.audit_events, max(20, ips)),
        delivery_events=min(ScaleSize.delivery_events, max(40, ips * 4)),
        suppressions_per_tenant=min(ScaleSize.suppressions_per_tenant, max(5, ips // 10)),
    )
