import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.dates import utc_today
from warmup.services import warmup_run_ramp


class Command(BaseCommand):
    help = "Run the daily warmup ramp for a date (default today, UTC) and print every decision."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date", help="YYYY-MM-DD the decisions apply to; signals come from the day before"
        )
        parser.add_argument("--dry-run", action="store_true", help="decide and print, write nothing")
        parser.add_argument("--json", action="store_true", help="JSON lines, one per decision")

    def handle(self, *args, **options) -> None:
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else utc_today()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        outcomes = warmup_run_ramp(day=day, dry_run=options["dry_run"])
        if options["json"]:
            for o in outcomes:
                self.stdout.write(json.dumps({"date": day.isoformat(), **o.as_dict()}))
            return
        mode = " (dry run: nothing written)" if options["dry_run"] else ""
        self.stdout.write(f"Warmup ramp for {day}{mode}: {len(outcomes)} decision(s)")
        for o in outcomes:
            self.stdout.write(
                f"  {o.ip:<39} {o.action:<10} step {o.from_step} -> {o.to_step}"
                f"  limit {o.daily_limit or '-'}/day  {o.reason}"
            )
        if not outcomes:
            self.stdout.write("  nothing to decide (no running warmups, or this date was already run)")
