import json
import os

from django.core.management.base import BaseCommand
from django.db import transaction

from emailengine.demo import seed_all


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent) and print one login per persona."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "demo-pass-2026"),
            help="password for every demo login (default: $DEMO_PASSWORD or demo-pass-2026)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            summary = seed_all(password=options["password"])
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for key, value in summary["counts"].items():
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write("Logins:")
        for login in summary["logins"]:
            self.stdout.write(f"  {login['username']:<22} {login['password']:<18} {login['persona']}")
