import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from ips.models import IPPool, MtaServer
from ips.services import ips_bulk_add, ips_bulk_preview, pool_create
from tenants.models import Tenant

CLI_ACTOR = "system: cli"


class Command(BaseCommand):
    help = "Add IPs and CIDR ranges to a server (and optionally a tenant's pool), as the bulk-add page does."

    def add_arguments(self, parser) -> None:
        parser.add_argument("items", nargs="+", metavar="IP_OR_CIDR")
        parser.add_argument("--server", required=True, help="server name")
        parser.add_argument("--pool", help="pool name on that server; created if missing")
        parser.add_argument("--tenant", help="tenant slug owning the pool (needed to create it)")
        parser.add_argument("--hostname-template", default="", help="e.g. mail-{ip}.example.com")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        server = MtaServer.objects.filter(name=options["server"]).first()
        if server is None:
            raise CommandError(f"no server named {options['server']}")
        tenant = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"no tenant with slug {options['tenant']}")
            if not options["pool"]:
                raise CommandError("--tenant needs --pool")

        # Each argument is one "line", so errors name the argument's position like the page names lines.
        preview = ips_bulk_preview(text="\n".join(options["items"]))
        if not preview.ok:
            errors = [
                {"line": line.line_no, "input": line.text, "error": line.error} for line in preview.errors
            ]
            if options["json"]:
                self.stdout.write(json.dumps({"added": 0, "errors": errors}))
            else:
                for e in errors:
                    self.stderr.write(f"argument {e['line']} ({e['input']}): {e['error']}")
            raise CommandError(
                f"{len(errors)} invalid argument(s); nothing was added" if errors else "nothing to add"
            )

        with transaction.atomic():
            pool, pool_created = self._pool(server, options["pool"], tenant)
            created = ips_bulk_add(
                server=server,
                addresses=preview.addresses,
                by=CLI_ACTOR,
                pool=pool,
                hostname_template=options["hostname_template"],
            )
        summary = {
            "server": server.name,
            "pool": pool.name if pool else None,
            "tenant": pool.tenant.slug if pool and pool.tenant else None,
            "pool_created": pool_created,
            "added": len(created),
            "addresses": [ip.address for ip in created],
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        where = f" in pool {pool.name}" if pool else ""
        if pool_created and pool:
            self.stdout.write(f"Created pool {pool.name} for {summary['tenant'] or 'no tenant'}.")
        self.stdout.write(self.style.SUCCESS(f"Added {len(created)} IPs to {server.name}{where}."))

    def _pool(self, server: MtaServer, name: str | None, tenant: Tenant | None) -> tuple[IPPool | None, bool]:
        if not name:
            return None, False
        pool = IPPool.objects.select_related("tenant").filter(server=server, name=name).first()
        if pool is not None:
            if tenant is not None and pool.tenant_id != tenant.pk:
                owner = pool.tenant.slug if pool.tenant else "no tenant"
                raise CommandError(f"pool {name} on {server.name} belongs to {owner}, not {tenant.slug}")
            return pool, False
        if tenant is None:
            raise CommandError(f"pool {name} does not exist on {server.name}; pass --tenant to create it")
        try:
            validate_slug(name)
        except ValidationError as exc:
            raise CommandError(f"pool name {name!r}: {exc.messages[0]}") from None
        return pool_create(name=name, server=server, tenant=tenant, by=CLI_ACTOR), True
