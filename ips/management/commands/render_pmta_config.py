import json
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ips.models import MtaServer
from ips.pmta_config import config_render_and_store, diff_stats


class Command(BaseCommand):
    help = (
        "Render the PMTA config fragments for one server, save the render when it changed, and write the "
        "files into --output (or print them)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--server", required=True, help="the server's name (slug)")
        parser.add_argument("--output", help="directory to write the files into (created if missing)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        name = options["server"]
        server = MtaServer.objects.filter(name=name).first()
        if server is None:
            raise CommandError(f"no PMTA server named {name!r}")
        render, diff = config_render_and_store(server=server, by="system: render_pmta_config")
        changed = bool(diff)
        files: dict[str, str] = render.files
        output = options.get("output")
        written: dict[str, str] = {}
        if output:
            written = _write_all(Path(output), files)

        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "server": server.name,
                        "files": written or files,
                        "changed": changed,
                        "version": render.version,
                        "digest": render.digest,
                    }
                )
            )
            return

        summary = _summary(server.name, f"version {render.version}, {render.digest}", diff)
        if output:
            for path in written.values():
                self.stdout.write(f"wrote {path}")
            self.stdout.write(summary)
        else:
            for filename, text in files.items():
                self.stdout.write(f"# ==> {filename} <==\n{text}", ending="")
            # The files went to stdout, so the summary goes to stderr and a pipe gets only the config.
            sys.stderr.write(summary + "\n")


def _summary(server: str, digest: str, diff: str) -> str:
    if not diff:
        return f"{server}: unchanged since the last render ({digest})"
    added, removed = diff_stats(diff)
    files = sorted({line[6:] for line in diff.splitlines() if line.startswith(("+++ b/", "--- a/"))})
    return f"{server}: changed {', '.join(files)} (+{added} -{removed} lines), saved as {digest}"


def _write_all(directory: Path, files: dict[str, str]) -> dict[str, str]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = {}
        for filename, text in files.items():
            target = directory / filename
            # Write then rename, so PMTA reloading at the wrong moment never reads half a file.
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{filename}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written[filename] = str(target)
        return written
    except OSError as exc:
        raise CommandError(f"cannot write to {directory}: {exc}") from exc
