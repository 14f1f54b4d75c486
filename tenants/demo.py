"""Demo tenants and one login per persona; used by seed_demo and by nothing in production."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from tenants.models import Membership, Tenant

DEMO_TENANTS = [("SOS-Expat", "sos-expat"), ("Ulixai", "ulixai")]


@dataclass
class DemoLogin:
    username: str
    password: str
    persona: str


def seed_tenants(password: str) -> tuple[list[Tenant], list[DemoLogin]]:
    User = get_user_model()
    logins: list[DemoLogin] = []
    op, _ = User.objects.get_or_create(username="operator", defaults={"email": "operator@example.com"})
    op.is_staff = True
    op.is_superuser = True
    op.is_active = True
    op.set_password(password)
    op.save()
    logins.append(DemoLogin("operator", password, "operator (staff, superuser)"))
    tenants = []
    for name, slug in DEMO_TENANTS:
        tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name})
        tenants.append(tenant)
        for role in (Membership.Role.ADMIN, Membership.Role.VIEWER):
            username = f"{slug}-{role}"
            user, _ = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            user.is_active = True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(user=user, defaults={"tenant": tenant, "role": role})
            logins.append(DemoLogin(username, password, f"{name} {role}"))
    return tenants, logins
