"""DKIM rotation: pending -> verified -> active (old one retiring) -> retired, one signing key throughout."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import AuditEvent
from domains import services
from domains.dkim_keys import dkim_txt_value
from domains.models import DkimKey, DomainCheck, KeyState
from domains.pmta_fragment import (
    dkim_vmta_lines,
    export_key_files,
    key_path,
    render_dkim_fragment,
    signing_keys,
)

GOLDEN = Path(__file__).parent / "golden"


def _loaded(domain) -> list[str]:
    """The domain-key lines PMTA loads for this domain, in order (UG5 3.3.1.33.1)."""
    keys = [k for k in signing_keys() if k.domain_id == domain.pk]
    return [f"domain-key {k.selector},{domain.name},{key_path(k)}" for k in keys]


def _signing(domain) -> list[str]:
    """What PMTA signs with: the first matching key."""
    return _loaded(domain)[:1]


def _publish(server, domain, key) -> None:
    server.add(f"{key.selector}._domainkey.{domain.name}", "TXT", dkim_txt_value(key.public_key_b64))


@pytest.mark.django_db
def test_it_rotates_through_every_state_without_a_gap_in_signing(make_domain, dns_settings):
    domain = make_domain("alpha.example", selector="ee202601")
    old = domain.keys.get()
    assert _signing(domain) == [
        "domain-key ee202601,alpha.example,/etc/pmta/emailengine/dkim/alpha.example.ee202601.pem"
    ]

    new = services.rotation_start(domain=domain, by="system: test", bits=1024, selector="ee202607")
    assert new.state == KeyState.PENDING
    assert _signing(domain) == [
        "domain-key ee202601,alpha.example,/etc/pmta/emailengine/dkim/alpha.example.ee202601.pem"
    ]

    # Not published yet: verify says missing, and activation is refused; the old key keeps signing.
    verification = services.rotation_verify(domain=domain, by="system: test")
    assert verification.result.status == "missing"
    with pytest.raises(services.RotationError, match="not published correctly"):
        services.rotation_activate(domain=domain, by="system: test")
    assert DkimKey.objects.get(pk=old.pk).state == KeyState.ACTIVE
    assert DomainCheck.objects.get(domain=domain, name="dkim_pending").status == "missing"

    _publish(dns_settings, domain, new)
    verification = services.rotation_verify(domain=domain, by="system: test")
    assert verification.result.status == "ok", verification.result.explanation
    assert DkimKey.objects.get(pk=new.pk).verified_at is not None

    services.rotation_activate(domain=domain, by="system: test", grace=timedelta(days=7))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (KeyState.RETIRING, KeyState.ACTIVE)
    assert old.retire_after > timezone.now() + timedelta(days=6)
    assert _signing(domain) == [
        "domain-key ee202607,alpha.example,/etc/pmta/emailengine/dkim/alpha.example.ee202607.pem"
    ]
    # The outgoing key stays loadable (after the active one) for its grace period.
    assert _loaded(domain)[1:] == [
        "domain-key ee202601,alpha.example,/etc/pmta/emailengine/dkim/alpha.example.ee202601.pem"
    ]
    # The pending slot is empty again and the domain's DKIM check is the new key's.
    assert not DomainCheck.objects.filter(domain=domain, name="dkim_pending").exists()
    assert DomainCheck.objects.get(domain=domain, name="dkim").details["selector"] == "ee202607"

    # The old key stays published (and so verifiable) until its grace period is over.
    with pytest.raises(services.RotationError, match="stays published until"):
        services.rotation_retire(domain=domain, selector="ee202601", by="system: test")
    assert services.dkim_retire_expired() == 0
    assert services.dkim_retire_expired(now=timezone.now() + timedelta(days=8)) == 1
    old.refresh_from_db()
    assert old.state == KeyState.RETIRED and old.retired_at is not None
    assert len(_loaded(domain)) == 1
    assert DkimKey.objects.filter(domain=domain, state=KeyState.ACTIVE).count() == 1

    actions = list(
        AuditEvent.objects.filter(action__startswith="dkim.")
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("dkim.rotation_start", "system: test"),
        ("dkim.rotation_verify", "system: test"),
        ("dkim.rotation_verify", "system: test"),
        ("dkim.rotation_activate", "system: test"),
        ("dkim.rotation_retire", "system: dkim retire"),
    ]


@pytest.mark.django_db
def test_it_lets_an_operator_force_retirement_and_a_rotation_be_cancelled(make_domain, dns_settings):
    domain = make_domain("alpha.example", selector="ee202601")
    new = services.rotation_start(domain=domain, by="system: test", bits=1024, selector="ee202607")
    _publish(dns_settings, domain, new)
    services.rotation_activate(domain=domain, by="system: test")

    key = services.rotation_retire(domain=domain, selector="ee202601", by="system: test", force=True)
    assert key.state == KeyState.RETIRED
    assert AuditEvent.objects.get(action="dkim.rotation_retire").after["forced"] is True

    services.rotation_start(domain=domain, by="system: test", bits=1024, selector="ee202612")
    with pytest.raises(services.RotationError, match="already in progress"):
        services.rotation_start(domain=domain, by="system: test", bits=1024)
    services.rotation_cancel(domain=domain, by="system: test")
    assert list(domain.keys.order_by("selector").values_list("selector", "state")) == [
        ("ee202601", "retired"),
        ("ee202607", "active"),
    ]
    with pytest.raises(services.RotationError, match="used before"):
        services.rotation_start(domain=domain, by="system: test", bits=1024, selector="ee202601")


@pytest.mark.django_db
def test_it_lets_the_database_refuse_a_second_active_key(make_domain):
    domain = make_domain("alpha.example")
    key = domain.keys.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        DkimKey.objects.create(
            domain=domain, selector="other", private_key=key.private_key, public_key_b64="x", state="active"
        )


@pytest.mark.django_db
def test_it_renders_the_pmta_fragment_as_the_golden_files(make_domain, tenant_b, dns_settings):
    alpha = make_domain("alpha.example", selector="ee202601")
    make_domain("beta.example", tenant=tenant_b, selector="ee202601")
    assert render_dkim_fragment() == (GOLDEN / "dkim_fragment_before.conf").read_text()

    new = services.rotation_start(domain=alpha, by="system: test", bits=1024, selector="ee202607")
    assert render_dkim_fragment() == (GOLDEN / "dkim_fragment_before.conf").read_text()
    _publish(dns_settings, alpha, new)
    services.rotation_activate(domain=alpha, by="system: test")

    assert render_dkim_fragment() == (GOLDEN / "dkim_fragment_after.conf").read_text()
    files = export_key_files()
    assert sorted(files) == [
        "/etc/pmta/emailengine/dkim/alpha.example.ee202601.pem",  # outgoing, loadable during its grace
        "/etc/pmta/emailengine/dkim/alpha.example.ee202607.pem",
        "/etc/pmta/emailengine/dkim/beta.example.ee202601.pem",
    ]
    assert (
        files["/etc/pmta/emailengine/dkim/alpha.example.ee202607.pem"]
        == DkimKey.objects.get(pk=new.pk).private_key
    )


@pytest.mark.django_db
def test_it_loads_a_tenants_keys_only_in_its_own_vmtas_and_registers_with_ips(make_domain, tenant_b, pool_a):
    alpha = make_domain("alpha.example", selector="ee202601")
    make_domain("beta.example", tenant=tenant_b, selector="ee202601")

    lines = dkim_vmta_lines(pool_a.server)
    assert list(lines) == [alpha.tenant_id]  # tenant B has no pool on this server
    assert lines[alpha.tenant_id] == [
        "    domain-key ee202601,alpha.example,/etc/pmta/emailengine/dkim/alpha.example.ee202601.pem"
    ]

    from ips import pmta_config

    assert "emailengine-dkim.conf" in pmta_config.registered_fragments()
    files = pmta_config.render_server_config(pool_a.server)
    vmtas = files["emailengine-vmtas.conf"]
    # Inside each of tenant A's VirtualMTAs, with signing turned on; never at global level.
    for block in vmtas.split("<virtual-mta ")[1:]:
        assert "domain-key ee202601,alpha.example," in block.split("</virtual-mta>")[0]
        assert "        dkim-sign yes" in block
    assert "beta.example" not in vmtas
    assert not any(line.startswith("domain-key") for line in files["emailengine-dkim.conf"].splitlines())
    secrets = pmta_config.bundle_secret_files(pool_a.server)
    assert list(secrets) == ["dkim/alpha.example.ee202601.pem"]
