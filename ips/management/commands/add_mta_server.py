import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator, validate_slug

from ips.models import MtaServer
from ips.services import server_create

CLI_ACTOR = "system: cli"


class Command(BaseCommand):
    help = "Create a PowerMTA host and print its webhook token (shown this once only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="short name (letters, digits, - and _), e.g. pmta-1")
        parser.add_argument("--hostname", default="")
        parser.add_argument(
            "--mgmt-url", default="", help="PMTA http-mgmt base URL, e.g. http://10.0.0.5:8080"
        )
        parser.add_argument("--json", action="store_true", help='print {"server", "id", "token"}')

    def handle(self, *args, **options) -> None:
        name, mgmt_url = options["name"], options["mgmt_url"]
        try:
            validate_slug(name)
        except ValidationError:
            raise CommandError(f"{name!r} is not a valid name: use letters, digits, - and _") from None
        if mgmt_url:
            try:
                URLValidator()(mgmt_url)
            except ValidationError:
                raise CommandError(f"{mgmt_url!r} is not a valid URL") from None
        if MtaServer.objects.filter(name=name).exists():
            raise CommandError(f"a server named {name} already exists")
        server, token = server_create(
            name=name, hostname=options["hostname"], mgmt_url=mgmt_url, by=CLI_ACTOR
        )
        if options["json"]:
            self.stdout.write(json.dumps({"server": server.name, "id": server.pk, "token": token}))
            return
        self.stdout.write(self.style.SUCCESS(f"Server {server.name} created (id {server.pk})."))
        self.stdout.write(f"Webhook token: {token}")
        self.stdout.write("Store it now: it is not shown again (only a hash is kept).")
