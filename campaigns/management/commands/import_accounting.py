"""import_accounting PATH [PATH ...] [--server NAME] [--json]: PMTA accounting files into Email Engine."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.accounting.importer import ImportResult, accounting_import_path
from ips.models import MtaServer


class _Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second (stdlib only)."""

    def __init__(self, stream, label: str) -> None:
        self.stream = stream
        self.label = label
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        fraction = min(1.0, done / total) if total else 1.0
        width = 30
        filled = int(fraction * width)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label[-40:]:<40} [{bar}] {fraction:6.1%}")
        self.stream.flush()

    def close(self) -> None:
        if self.last:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import PowerMTA accounting files (CSV, plain or .gz). Each file continues where its last import "
        "stopped, so importing the same file again imports nothing; records seen before count as duplicates."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--server", help="MTA server name, for records whose sending IP is not known")
        parser.add_argument("--json", action="store_true", help="print one JSON summary object")
        parser.add_argument(
            "--not-final",
            action="store_true",
            help="the files may still be growing: leave a last line without newline for the next import",
        )

    def handle(self, *args, **options) -> None:
        server = None
        if options["server"]:
            server = MtaServer.objects.filter(name=options["server"]).first()
            if server is None:
                raise CommandError(f"no server named {options['server']}")
        total = ImportResult()
        tty = sys.stderr.isatty() and not options["json"]
        for raw_path in options["paths"]:
            progress = _Progress(sys.stderr, raw_path) if tty else None
            try:
                result = accounting_import_path(
                    path=Path(raw_path), server=server, final=not options["not_final"], progress=progress
                )
            finally:
                if progress:
                    progress.close()
            total.merge(result)
        if options["json"]:
            self.stdout.write(json.dumps(total.as_dict()))
        else:
            self._print(total)
        if total.failed_files:
            names = ", ".join(f["file"] for f in total.failed_files)
            raise CommandError(f"{len(total.failed_files)} file(s) could not be read: {names}")

    def _print(self, total: ImportResult) -> None:
        by_type = ", ".join(f"{kind}={count}" for kind, count in sorted(total.by_type.items())) or "none"
        self.stdout.write(
            f"read {total.read}, imported {total.imported} ({by_type}), "
            f"duplicates {total.duplicates}, rejected {total.rejected}"
            + (f", held {total.held} (sent from another server's IP)" if total.held else "")
        )
        if total.by_feedback:
            feedback = ", ".join(f"{kind or '(none)'}={n}" for kind, n in sorted(total.by_feedback.items()))
            self.stdout.write(f"  feedback reports by type: {feedback}")
        if total.left_waiting:
            self.stdout.write(
                f"  {total.left_waiting} file(s) end in a line without newline (PMTA still writing it): "
                "left for the next import"
            )
        for error in total.errors:
            self.stdout.write(f"  rejected {error['file']} line {error['line']}: {error['reason']}")
        if total.errors_truncated:
            self.stdout.write(f"  ... and {total.errors_truncated} more rejected records")
        for failed in total.failed_files:
            self.stderr.write(f"could not read {failed['file']}: {failed['reason']}")
