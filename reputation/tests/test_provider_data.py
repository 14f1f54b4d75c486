"""Provider data (issue 16): Postmaster Tools v2 and SNDS imports against strict local stand-ins."""

from datetime import UTC, datetime, timedelta

import pytest

from domains.models import SendingDomain
from reputation.models import PostmasterDomainStat, ProviderAccount, SndsIpStat
from reputation.providers.feedback_id import feedback_id, parse_feedback_id
from reputation.providers.postmaster import postmaster_import
from reputation.providers.snds import parse_csv, parse_rate, snds_import

# Relative to the real date: the provider page shows the last PROVIDER_DAYS days of today, so fixed dates
# would make its test fail once they are that old.
TODAY = datetime.now(UTC).date()
DAY1, DAY2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
SNDS_CSV = (
    "192.0.2.10,11/18/2026 5:00 PM,11/19/2026 4:00 PM,1200,1100,1150,GREEN,< 0.1%,,,0,mta1.example,"
    "bounce@a.example,\r\n"
    "192.0.2.20,11/18/2026 5:00 PM,11/19/2026 4:00 PM,900,880,890,RED,2.5%,11/18/2026 6:00 PM,"
    "11/19/2026 3:00 PM,12,mta2.example,bounce@b.example,\r\n"
    "not-an-ip,11/18/2026 5:00 PM,11/19/2026 4:00 PM,1,1,1,GREEN,< 0.1%,,,0,,,\r\n"
)


@pytest.fixture
def google(standin, tenant_a):
    domain = SendingDomain.objects.create(
        tenant=tenant_a, name="a-sender.example", return_path_domain="rp.example"
    )
    standin.add_stat(domain.name, DAY1, "SPAM_RATE", 0.0012)
    standin.add_stat(domain.name, DAY2, "SPAM_RATE", 0.0041)
    standin.add_stat(domain.name, DAY2, "AUTH_SUCCESS_RATE", 0.99, 'auth_type = "dkim"')
    standin.add_stat(domain.name, DAY2, "DELIVERY_ERROR_RATE", 0.02)
    standin.fbl[domain.name] = {DAY2: {"spring-sale:tenant-a:bulk:ee1": 0.0052, "someone-elses-id": 0.001}}
    standin.compliance[domain.name] = {
        "USER_REPORTED_SPAM_RATE": "NEEDS_WORK",
        "ONE_CLICK_UNSUBSCRIBE": "COMPLIANT",
    }
    account = ProviderAccount.objects.create(
        kind="postmaster",
        tenant=tenant_a,
        label="A's Google",
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        refresh_token=standin.refresh_token,
    )
    return account, domain


@pytest.mark.django_db
def test_it_imports_postmaster_v2_daily_metrics_and_compliance(google, standin):
    account, domain = google
    result = postmaster_import(account=account, today=TODAY)
    assert (result.domains, result.days, result.errors) == (1, 2, [])
    day2 = PostmasterDomainStat.objects.get(domain=domain, day=DAY2)
    assert day2.spam_rate == 0.0041 and day2.dkim_success_rate == 0.99 and day2.delivery_error_rate == 0.02
    assert day2.needs_work == ["USER_REPORTED_SPAM_RATE"]
    assert ("POST", "/v2/domains/a-sender.example/domainStats:query") in standin.requests
    # Importing again updates in place.
    postmaster_import(account=account, today=TODAY)
    assert PostmasterDomainStat.objects.count() == 2


@pytest.mark.django_db
def test_postmaster_credentials_are_encrypted_at_rest(google):
    from django.db import connection

    account, _ = google
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, refresh_token FROM reputation_provideraccount WHERE id = %s", [account.pk]
        )
        secret, refresh = cursor.fetchone()
    assert "secret-1" not in secret and "refresh-1" not in refresh


@pytest.mark.django_db
def test_a_refused_token_is_recorded_not_raised(google, standin):
    account, _ = google
    account.refresh_token = "revoked"
    account.save()
    result = postmaster_import(account=account, today=TODAY)
    assert result.domains == 0 and "invalid_grant" in result.errors[0]
    account.refresh_from_db()
    assert "invalid_grant" in account.last_error


@pytest.mark.django_db
def test_a_domain_the_account_has_not_registered_is_an_error_for_that_domain_only(google, standin, tenant_a):
    account, _ = google
    SendingDomain.objects.create(
        tenant=tenant_a, name="unregistered.example", return_path_domain="rp2.example"
    )
    result = postmaster_import(account=account, today=TODAY)
    assert result.domains == 1
    assert any("unregistered.example" in e and "PERMISSION_DENIED" in e for e in result.errors)


def test_the_standin_refuses_an_auth_rate_without_its_filter(standin):
    import json
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    standin.add_stat("x.example", DAY2, "SPAM_RATE", 0.001)
    body = json.dumps(
        {
            "metricDefinitions": [{"name": "a", "baseMetric": {"standardMetric": "AUTH_SUCCESS_RATE"}}],
            "timeQuery": {"dateRanges": {"dateRanges": []}},
        }
    ).encode()
    req = Request(  # noqa: S310 - the local stand-in
        standin.base + "/v2/domains/x.example/domainStats:query",
        data=body,
        headers={"Authorization": f"Bearer {standin.access_token}", "Content-Type": "application/json"},
    )
    with pytest.raises(HTTPError) as refused:
        urlopen(req)  # noqa: S310 - the local stand-in
    assert refused.value.code == 400


@pytest.mark.parametrize(("text", "rate"), [("< 0.1%", 0.001), ("2.5%", 0.025), ("", None)])
def test_snds_complaint_rates(text, rate):
    assert parse_rate(text) == rate


def test_snds_rows_parse_and_a_bad_row_is_rejected_alone():
    rows, rejected = parse_csv(SNDS_CSV)
    assert [r.address for r in rows] == ["192.0.2.10", "192.0.2.20"]
    red = rows[1]
    assert (red.filter_result, red.complaint_rate, red.trap_hits, red.recipients) == ("RED", 0.025, 12, 890)
    assert rejected == [(3, "'not-an-ip' does not appear to be an IPv4 or IPv6 address")]


@pytest.mark.django_db
def test_snds_import_by_key(standin):
    standin.snds_keys["k-123"] = SNDS_CSV
    account = ProviderAccount.objects.create(kind="snds", label="ops", snds_key="k-123")
    result = snds_import(account=account)
    assert result.rows == 2 and len(result.rejected) == 1
    assert SndsIpStat.objects.get(address="192.0.2.20").filter_result == "RED"
    snds_import(account=account)
    assert SndsIpStat.objects.count() == 2
    account.snds_key = "wrong"
    account.save()
    assert "HTTP 401" in snds_import(account=account).error


def test_the_feedback_id_convention_maps_back_to_the_tenant(settings):
    settings.FEEDBACK_ID_SENDER = "ee1"
    value = feedback_id(tenant_slug="acme", campaign_key="Spring sale!")
    assert value == "Spring-sale:acme:bulk:ee1"
    assert parse_feedback_id(value) == {"campaign": "Spring-sale", "tenant": "acme", "stream": "bulk"}
    assert parse_feedback_id("a:b:c:someone-else") is None


@pytest.mark.django_db
def test_the_provider_page_shows_each_tenant_its_own_domains(google, login, admin_a, admin_b, operator):
    account, _ = google
    postmaster_import(account=account, today=TODAY)
    page = login(admin_a).get("/reputation/providers/").content.decode()
    assert "a-sender.example" in page and "0.41%" in page and "USER_REPORTED_SPAM_RATE" in page
    assert "a-sender.example" not in login(admin_b).get("/reputation/providers/").content.decode()
    assert "a-sender.example" in login(operator).get("/reputation/providers/").content.decode()
    assert "spring-sale:tenant-a:bulk:ee1" in page


@pytest.mark.django_db
def test_feedback_loop_rates_map_to_tenants_by_our_feedback_id(google, settings, tenant_a):
    from reputation.models import FeedbackLoopStat

    settings.FEEDBACK_ID_SENDER = "ee1"
    account, _ = google
    postmaster_import(account=account, today=TODAY)
    ours = FeedbackLoopStat.objects.get(feedback_id="spring-sale:tenant-a:bulk:ee1")
    assert (ours.tenant, ours.campaign_key, ours.spam_rate) == (tenant_a, "spring-sale", 0.0052)
    other = FeedbackLoopStat.objects.get(feedback_id="someone-elses-id")
    assert other.tenant is None and other.campaign_key == ""


def test_snds_rows_in_another_column_order_are_rejected_never_misread():
    """The column order is not confirmed from Microsoft's own documentation (snds.py): a row whose verdict
    column is not GREEN/YELLOW/RED is rejected with its line number, so a number is never read as RED."""
    swapped = (
        "192.0.2.20,11/18/2026 5:00 PM,11/19/2026 4:00 PM,900,880,RED,890,2.5%,,,12,mta2.example,"
        "b@b.example,\r\n"
    )
    rows, rejected = parse_csv(swapped)
    assert rows == [] and rejected == [(1, "filter result '890' is not GREEN, YELLOW or RED")]
