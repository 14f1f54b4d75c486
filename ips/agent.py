"""Config delivery to PMTA hosts: the bundle the host agent (deploy/pmta/ee-agent) fetches and its report.

The agent authenticates with its server's token and only ever gets that server's bundle: the rendered files,
the DKIM private keys of the domains that server signs (nothing else), the VirtualMTAs that are held, and the
pending ``pmta`` commands. It writes the files, runs ``pmta reload`` (UG5 6.3.4), puts the previous files back
if the reload fails, runs the commands and reports each result through ``agent_report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from ips.models import SENDING_STATUSES, IPAddress, MtaServer, PmtaCommand, PmtaConfigRender
from ips.pmta_config import bundle_secret_files, config_render_and_store, include_dir, latest_render

BY_DELIVERY = "system: config delivery"
MAX_OUTPUT_CHARS = 8000
MAX_COMMANDS = 500


def agent_interval() -> int:
    """Seconds between agent runs (setting PMTA_AGENT_INTERVAL); the bundle tells the agent."""
    return int(settings.PMTA_AGENT_INTERVAL)


class ReportError(ValueError):
    pass


def config_desired(*, server: MtaServer) -> PmtaConfigRender:
    """The server's desired config: rendered now, stored as a new version when anything in it changed."""
    render, _diff = config_render_and_store(server=server, by=BY_DELIVERY)
    return render


def agent_bundle(*, server: MtaServer, agent: str = "") -> dict[str, Any]:
    """What ``GET /hooks/pmta/config`` answers for ``server`` (and marks its agent as seen)."""
    render = config_desired(server=server)
    held = list(
        IPAddress.objects.filter(server=server)
        .exclude(status__in=SENDING_STATUSES)
        .order_by("vmta_name")
        .values_list("vmta_name", flat=True)
    )
    commands = list(
        PmtaCommand.objects.filter(server=server, status=PmtaCommand.Status.PENDING).order_by(
            "created_at", "pk"
        )[:MAX_COMMANDS]
    )
    _seen(server, agent)
    return {
        "server": server.name,
        "version": render.version,
        "digest": render.digest,
        "include_dir": include_dir(),
        "files": render.files,
        # Relative to include_dir; written 0600. Only the keys of domains this server signs.
        "secret_files": bundle_secret_files(server),
        "held_vmtas": held,
        "commands": [{"id": c.pk, "args": c.args} for c in commands],
        "interval": agent_interval(),
    }


def _seen(server: MtaServer, agent: str) -> None:
    server.agent_last_seen = timezone.now()
    fields = ["agent_last_seen"]
    if agent and agent[:200] != server.agent_info:
        server.agent_info = agent[:200]
        fields.append("agent_info")
    server.save(update_fields=fields)


@dataclass(frozen=True)
class ReportResult:
    desired_version: int | None
    applied_version: int | None
    commands_recorded: int


def _clip(text: object) -> str:
    value = "" if text is None else str(text)
    return value if len(value) <= MAX_OUTPUT_CHARS else value[: MAX_OUTPUT_CHARS - 20] + "\n... (truncated)"


@transaction.atomic
def agent_report(*, server: MtaServer, report: dict[str, Any], agent: str = "") -> ReportResult:
    """Record what the agent did: the version it applied (or why it could not) and each command's result.

    ``report``: {"version": n, "status": "applied" | "unchanged" | "failed", "error": "...", "output": "...",
    "commands": [{"id": n, "exit_code": 0, "output": "..."}]}. A failure keeps the applied version where it
    was and records PMTA's output as the server's last error; both land in the audit log.
    """
    if not isinstance(report, dict):
        raise ReportError("the body must be a JSON object")
    status = report.get("status")
    if status not in ("applied", "unchanged", "failed"):
        raise ReportError("status must be applied, unchanged or failed")
    version = report.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ReportError("version must be a positive integer")
    if not PmtaConfigRender.objects.filter(server=server, version=version).exists():
        raise ReportError(f"version {version} was never rendered for {server.name}")
    results = report.get("commands") or []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise ReportError("commands must be a list of objects")

    server = MtaServer.objects.select_for_update().get(pk=server.pk)
    now = timezone.now()
    server.agent_last_seen = now
    fields = ["agent_last_seen"]
    if agent and agent[:200] != server.agent_info:
        server.agent_info = agent[:200]
        fields.append("agent_info")
    if status in ("applied", "unchanged"):
        before = server.config_applied_version
        if before != version:
            server.config_applied_version, server.config_applied_at = version, now
            fields += ["config_applied_version", "config_applied_at"]
            audit_record(
                action="server.config_applied",
                by=BY_DELIVERY,
                obj=server,
                before={"version": before},
                after={"version": version, "agent": server.agent_info},
            )
        if server.agent_last_error:
            server.agent_last_error = ""
            fields.append("agent_last_error")
    else:
        error = _clip(report.get("error") or "reload failed")
        output = _clip(report.get("output"))
        text = f"version {version}: {error}" + (f"\n{output}" if output else "")
        if text != server.agent_last_error:
            audit_record(
                action="server.config_apply_failed",
                by=BY_DELIVERY,
                obj=server,
                before={"version": server.config_applied_version},
                after={"version": version, "error": error, "output": output},
            )
        server.agent_last_error, server.agent_last_error_at = text, now
        fields += ["agent_last_error", "agent_last_error_at"]
    server.save(update_fields=fields)

    recorded = _record_commands(server, results, now)
    desired = latest_render(server)
    return ReportResult(
        desired_version=desired.version if desired else None,
        applied_version=server.config_applied_version,
        commands_recorded=recorded,
    )


def _record_commands(server: MtaServer, results: list[dict], now) -> int:
    by_id = {r.get("id"): r for r in results if isinstance(r.get("id"), int)}
    if not by_id:
        return 0
    recorded = 0
    # Only this server's pending commands: an id from another server is ignored, a result is kept once.
    for command in PmtaCommand.objects.select_for_update().filter(
        server=server, pk__in=list(by_id), status=PmtaCommand.Status.PENDING
    ):
        result = by_id[command.pk]
        exit_code = result.get("exit_code")
        ok = isinstance(exit_code, int) and exit_code == 0
        command.status = PmtaCommand.Status.OK if ok else PmtaCommand.Status.FAILED
        command.exit_code = exit_code if isinstance(exit_code, int) else None
        command.output = _clip(result.get("output"))
        command.finished_at = now
        command.save(update_fields=["status", "exit_code", "output", "finished_at"])
        audit_record(
            action="server.pmta_command",
            by=BY_DELIVERY,
            obj=server,
            after={
                "command": command.command_line,
                "status": command.status,
                "exit_code": command.exit_code,
                "output": command.output[:500],
            },
            reason=command.reason,
        )
        recorded += 1
    return recorded
