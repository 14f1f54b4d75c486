import json

from django.core.management.base import BaseCommand, CommandError

from reputation import services
from reputation.models import Sweep


class Command(BaseCommand):
    help = (
        "Run a blocklist sweep now and print every result. Without --target: the whole inventory, "
        "stored (listings, events, holds). With --target: only those IPs or domains, looked up ad hoc "
        "and stored nowhere."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--target",
            action="append",
            nargs="+",
            default=[],
            metavar="IP_OR_DOMAIN",
            help="check these IPs or domains only (need not be in the inventory; nothing is stored)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON lines")

    def handle(self, *args, **options) -> None:
        targets = [t for group in options["target"] for t in group]
        try:
            if targets:
                results = services.lookup_adhoc(targets)
                summary = None
            else:
                record = services.sweep_run(trigger=Sweep.Trigger.COMMAND)
                results, summary = record.results, record
        except services.InvalidTarget as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            raise CommandError(f"the sweep failed: {exc}") from exc
        if not results and not targets:
            self.stderr.write("Nothing to check: no IPs or domains in the inventory, or no enabled list.")
        for r in results:
            if options["json"]:
                line = {
                    "target": r.target,
                    "list": r.list_key,
                    "zone": r.zone,
                    "status": r.status,
                    "code": r.code,
                    "meaning": r.meaning,
                }
                self.stdout.write(json.dumps(line))
            else:
                code = r.code or "-"
                self.stdout.write(
                    f"{r.target:<32} {r.list_key:<16} {r.zone:<28} {r.status:<7} {code:<16} {r.meaning}"
                )
        if summary is not None and not options["json"]:
            self.stdout.write(
                f"Sweep finished in {summary.duration:.1f}s: {summary.queries} checks, "
                f"{summary.listed} listed, {summary.errors} errors, "
                f"{summary.new_listings} new listings, {summary.cleared} cleared."
            )
