import ipaddress
import secrets
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField
from tenants.models import Tenant, hash_token


class TransitionError(ValueError):
    """A lifecycle move the IP's status does not allow."""


class MtaServer(models.Model):
    """A PowerMTA host: where its management interface is and how it authenticates to our webhook."""

    name = models.SlugField(max_length=60, unique=True, help_text="Short name used in commands and configs")
    hostname = models.CharField(max_length=253, blank=True)
    mgmt_url = models.URLField(
        "management URL", blank=True, help_text="PMTA http-mgmt-port base URL, e.g. http://10.0.0.5:8080"
    )
    mgmt_api_key = EncryptedTextField("management API key", blank=True, help_text="Sent as X-API-Key")
    # Only a hash is kept: the token is shown once when created or rotated.
    webhook_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    webhook_token_hint = models.CharField(max_length=12, blank=True, editable=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Latest health poll (history is not kept here; metrics keep the time series).
    health_checked_at = models.DateTimeField(null=True, blank=True)
    health_up = models.BooleanField(null=True)
    health_error = models.TextField(blank=True)
    health_traffic_hour_out_msg = models.BigIntegerField(null=True, blank=True)
    health_traffic_hour_out_rcp = models.BigIntegerField(null=True, blank=True)
    health_smtp_out_conn = models.IntegerField(null=True, blank=True)
    health_queued_rcp = models.BigIntegerField(null=True, blank=True)
    health_queued_domains = models.IntegerField(null=True, blank=True)
    health_backoff_queues = models.JSONField(default=list, blank=True)

    # PMTA config delivery (ee-agent). The desired version is the latest PmtaConfigRender's; these are what
    # the host's agent last reported.
    config_applied_version = models.PositiveIntegerField(null=True, blank=True)
    config_applied_at = models.DateTimeField(null=True, blank=True)
    agent_last_seen = models.DateTimeField(null=True, blank=True)
    agent_last_error = models.TextField(blank=True)
    agent_last_error_at = models.DateTimeField(null=True, blank=True)
    agent_info = models.CharField(max_length=200, blank=True, help_text="Agent version and host it reported")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def new_token() -> str:
        return "ee_" + secrets.token_urlsafe(32)

    def set_webhook_token(self, token: str) -> None:
        self.webhook_token_hash = hash_token(token)
        self.webhook_token_hint = token[:7] + "…"

    @property
    def health_label(self) -> str:
        if self.health_up is None:
            return "unknown"
        return "up" if self.health_up else "down"


class IPPool(models.Model):
    """A PMTA virtual-mta-pool; belongs to one tenant, whose users see it read-only."""

    name = models.SlugField(max_length=60)
    server = models.ForeignKey(MtaServer, on_delete=models.PROTECT, related_name="pools")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="pools", null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["server__name", "name"]
        constraints = [models.UniqueConstraint(fields=["server", "name"], name="pool_name_unique_per_server")]

    def __str__(self) -> str:
        return self.name


class IPStatus(models.TextChoices):
    NEW = "new", "New"
    WARMING = "warming", "Warming"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    RETIRED = "retired", "Retired"


# Allowed lifecycle moves. Paused resumes to where it was paused from (see IPAddress.resume_target).
TRANSITIONS: dict[str, frozenset[str]] = {
    IPStatus.NEW: frozenset({IPStatus.WARMING, IPStatus.ACTIVE, IPStatus.PAUSED, IPStatus.RETIRED}),
    IPStatus.WARMING: frozenset({IPStatus.ACTIVE, IPStatus.PAUSED, IPStatus.RETIRED}),
    IPStatus.ACTIVE: frozenset({IPStatus.WARMING, IPStatus.PAUSED, IPStatus.RETIRED}),
    IPStatus.PAUSED: frozenset({IPStatus.NEW, IPStatus.WARMING, IPStatus.ACTIVE, IPStatus.RETIRED}),
    IPStatus.RETIRED: frozenset({IPStatus.NEW}),
}

SENDING_STATUSES = frozenset({IPStatus.WARMING, IPStatus.ACTIVE})


class IPAddress(models.Model):
    """One dedicated sending IP, rendered as one PMTA virtual-mta."""

    address = models.GenericIPAddressField(unique=True, unpack_ipv4=True)
    hostname = models.CharField("HELO / PTR hostname", max_length=253, blank=True)
    server = models.ForeignKey(MtaServer, on_delete=models.PROTECT, related_name="ips")
    vmta_name = models.SlugField("virtual-mta name", max_length=80)
    pool = models.ForeignKey(IPPool, on_delete=models.SET_NULL, related_name="ips", null=True, blank=True)
    status = models.CharField(max_length=10, choices=IPStatus.choices, default=IPStatus.NEW, db_index=True)
    paused_from = models.CharField(max_length=10, choices=IPStatus.choices, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_reason = models.CharField(max_length=300, blank=True)

    # Current sending limits, written by the warmup ramp through ips.services.ip_set_limits.
    # None means "no limit from us". provider_limits: {"gmail.com": {"hourly": 100}, ...}
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    hourly_limit = models.PositiveIntegerField(null=True, blank=True)
    provider_limits = models.JSONField(default=dict, blank=True)
    limits_changed_at = models.DateTimeField(null=True, blank=True)

    rdns_status = models.CharField(max_length=10, blank=True)  # ok | mismatch | missing | unknown
    rdns_ptr = models.CharField(max_length=253, blank=True)
    rdns_explanation = models.CharField(max_length=300, blank=True)
    rdns_checked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["server__name", "vmta_name"]
        verbose_name = "IP address"
        verbose_name_plural = "IP addresses"
        constraints = [
            models.UniqueConstraint(fields=["server", "vmta_name"], name="vmta_name_unique_per_server")
        ]
        indexes = [
            # The server and pool lists count each row's IPs by status (ips.selectors.servers_with_counts,
            # pools_with_counts): one index-only range per server or pool and status, not its IPs' rows.
            models.Index(fields=["server", "status"], name="ip_server_status"),
            models.Index(fields=["pool", "status"], name="ip_pool_status"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version

    @property
    def tenant_id(self) -> int | None:
        return self.pool.tenant_id if self.pool_id else None  # type: ignore[union-attr]

    @staticmethod
    def default_vmta_name(address: str) -> str:
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            return "vmta-" + str(ip).replace(".", "-")
        return "vmta6-" + ip.exploded.replace(":", "")[-16:]

    def can_send(self) -> bool:
        return self.status in SENDING_STATUSES

    def can_transition(self, to: str) -> bool:
        return to in TRANSITIONS[self.status]

    @property
    def resume_target(self) -> str:
        return self.paused_from or IPStatus.ACTIVE

    # The one rule for a status or limit change, used by the single and the bulk services alike: it
    # changes the object in memory and says what changed; the caller saves these fields and audits.
    STATUS_FIELDS = ("status", "paused_from", "status_changed_at", "status_reason")
    LIMIT_FIELDS = ("daily_limit", "hourly_limit", "provider_limits", "limits_changed_at")

    def move_to(self, to: str, *, reason: str = "", now: datetime | None = None) -> dict[str, Any] | None:
        """Apply a lifecycle move: the before-picture, or None when the IP is already there.
        Raises TransitionError for a move TRANSITIONS does not allow."""
        if self.status == to:
            return None
        if not self.can_transition(to):
            raise TransitionError(f"{self.address}: cannot go from {self.status} to {to}")
        before = {"status": self.status}
        self.paused_from = self.status if to == IPStatus.PAUSED else ""
        self.status = to
        self.status_changed_at = now or timezone.now()
        self.status_reason = reason[:300]
        return before

    def limits(self) -> dict[str, Any]:
        return {"daily": self.daily_limit, "hourly": self.hourly_limit, "per_provider": self.provider_limits}

    def set_limits(
        self,
        *,
        daily: int | None,
        hourly: int | None,
        per_provider: dict[str, dict[str, int]] | None,
        now: datetime | None = None,
    ) -> dict[str, Any] | None:
        """Apply sending limits: the before-picture, or None when they are already these."""
        before = self.limits()
        if before == {"daily": daily, "hourly": hourly, "per_provider": per_provider or {}}:
            return None
        self.daily_limit, self.hourly_limit, self.provider_limits = daily, hourly, per_provider or {}
        self.limits_changed_at = now or timezone.now()
        return before


class PmtaConfigRender(models.Model):
    """One saved rendering of a server's PMTA config fragments: the history that diffs compare against."""

    server = models.ForeignKey(MtaServer, on_delete=models.CASCADE, related_name="config_renders")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.CharField(max_length=150, help_text="Username or a 'system: ...' label")
    files = models.JSONField(default=dict, help_text="{filename: text}")
    digest = models.CharField(max_length=80)
    # 1, 2, 3 ... per server: the config version an agent fetches and reports back.
    version = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["server", "-created_at"], name="pmta_render_server_recent")]
        constraints = [
            models.UniqueConstraint(fields=["server", "version"], name="pmta_render_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.server} {self.digest[:19]}"


class PmtaCommand(models.Model):
    """A `pmta` CLI command for one server's agent to run (UG5 6.3), e.g. pause queue */vmta-1."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        OK = "ok", "Done"
        FAILED = "failed", "Failed"

    server = models.ForeignKey(MtaServer, on_delete=models.CASCADE, related_name="commands")
    args = models.JSONField(help_text='Arguments after "pmta", e.g. ["pause", "queue", "*/vmta-1"]')
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["server", "status"], name="pmta_command_server_status")]

    def __str__(self) -> str:
        return "pmta " + " ".join(self.args)

    @property
    def command_line(self) -> str:
        return "pmta " + " ".join(self.args)


class ProviderGroup(models.Model):
    """A mailbox provider's recipient domains, limited as one destination in PMTA (queue-to, UG5 10.9)."""

    name = models.SlugField(max_length=40, unique=True, help_text="Key in IP provider limits, e.g. gmail")
    label = models.CharField(max_length=80)
    domains = models.JSONField(default=list, help_text="Recipient domains, lowercase ASCII")
    mx_domain = models.CharField(
        "MX domain",
        max_length=253,
        help_text="The grouped queue goes to this domain's MX (smtp-hosts lookup-mx:, UG5 3.3.10.89); "
        "every domain of the group must be accepted there",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name

    @property
    def queue_name(self) -> str:
        """The grouped queue's name: not a real domain, so it never collides with a recipient domain."""
        return f"{self.name}.queue"
