import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tenants.services import TokenError, api_token_create

CLI_ACTOR = "system: cli"


class Command(BaseCommand):
    help = (
        "Create a personal API token for a user (same role and tenant scope as the user); "
        "printed this once only, stored hashed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--name", default="", help="a label to recognise the token by (default: cli-<date and time>)"
        )
        parser.add_argument("--expires-days", type=int, default=None, help="expire after this many days")
        parser.add_argument("--json", action="store_true", help='print {"user", "name", "token"}')

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        if not user.is_active:
            raise CommandError(f"{user.username} is deactivated: a token would authenticate nothing")
        name = options["name"] or f"cli-{timezone.now():%Y%m%d-%H%M%S}"
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, raw = api_token_create(user=user, name=name, by=CLI_ACTOR, expires_at=expires_at)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"user": user.username, "name": token.name, "token": raw}))
            return
        self.stdout.write(self.style.SUCCESS(f"API token {token.name!r} created for {user.username}."))
        self.stdout.write(f"Token: {raw}")
        self.stdout.write("Store it now: it is not shown again (only a hash is kept).")
