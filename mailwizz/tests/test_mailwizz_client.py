"""The MailWizz client against the local stand-in: both auth modes, refusals, error replies, timeouts."""

import pytest

from mailwizz.client import (
    MailWizzAuthError,
    MailWizzClient,
    MailWizzError,
    MailWizzNotFound,
    MailWizzUnavailable,
    mw1_signature,
    php_build_query,
)
from testsupport.mailwizz_standin import MailWizzStandin


@pytest.fixture(params=["mw2", "mw1"])
def mw(request, settings):
    # The stand-in listens on 127.0.0.1: an operator has allowed that network (core/outbound.py).
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with MailWizzStandin(
        api_key="pub-key", private_key="priv-key", auth=request.param, slow_seconds=1.5
    ) as standin:
        standin.add_campaign("cu1", name="Spring sale", list_uid="lu1")
        yield standin


def client_for(mw: MailWizzStandin, **overrides) -> MailWizzClient:
    args = {
        "base_url": mw.url,
        "api_key": "pub-key",
        "private_key": "priv-key",
        "mode": mw.auth,
        "timeout": 0.5,
    }
    return MailWizzClient(**{**args, **overrides})


def test_it_authenticates_in_both_modes_and_sends_the_documented_headers(mw):
    assert client_for(mw).ping() == 1
    headers = mw.requests[-1]["headers"]
    assert mw.requests[-1]["auth_ok"]
    if mw.auth == "mw2":
        assert headers["x-api-key"] == "pub-key"
        assert "x-mw-signature" not in headers
    else:
        assert headers["x-mw-public-key"] == "pub-key"
        assert headers["x-mw-timestamp"].isdigit()
        assert len(headers["x-mw-signature"]) == 40  # hex sha1


def test_it_signs_bodies_too_so_posts_and_puts_pass_the_1x_check(mw):
    subscriber = mw.add_subscriber("lu1", "odd~name+tag@example.com")
    client = client_for(mw)
    assert client.subscriber_uid_by_email(list_uid="lu1", email="odd~name+tag@example.com") == subscriber
    client.campaign_bounce_create(
        campaign_uid="cu1", subscriber_uid=subscriber, message="550 5.1.1 <x> unknown & gone ~ = ?"
    )
    client.unsubscribe_from_all_lists(email="odd~name+tag@example.com")
    assert all(r["auth_ok"] for r in mw.requests)
    assert mw.bounces[0]["message"] == "550 5.1.1 <x> unknown & gone ~ = ?"
    assert mw.bounces[0]["bounce_type"] == "hard"
    assert mw.unsubscribes == ["odd~name+tag@example.com"]
    put = mw.calls("PUT")[0]
    assert put["path"] == "/api/lists/subscribers/unsubscribe-by-email-from-all-lists"
    assert put["form"] == {"EMAIL": "odd~name+tag@example.com"}


def test_it_raises_an_auth_error_for_a_wrong_key_in_its_own_words(mw):
    with pytest.raises(MailWizzAuthError, match="HTTP 401: the API key") as wrong_key:
        client_for(mw, api_key="wrong").ping()
    assert wrong_key.value.status == 401
    assert "Invalid API request authorization" not in str(wrong_key.value)  # the remote's text stays out
    if mw.auth == "mw1":
        with pytest.raises(MailWizzAuthError, match="signature"):
            client_for(mw, private_key="not-the-private-key").ping()


def test_it_reports_timeouts_server_errors_and_non_api_replies_as_typed_errors(mw):
    client = client_for(mw, timeout=0.3)
    mw.mode = "slow"
    with pytest.raises(MailWizzUnavailable, match="timed out"):
        client.ping()
    mw.mode = "500"
    with pytest.raises(MailWizzUnavailable, match="HTTP 500") as err:
        client.ping()
    assert err.value.status == 500
    assert "Internal server error" not in str(err.value)
    mw.mode = "garbage"
    with pytest.raises(MailWizzError, match="not MailWizz JSON"):
        client.ping()
    mw.mode = "ok"
    with pytest.raises(MailWizzNotFound, match="HTTP 404: not found"):
        client.campaign("nope")
    with pytest.raises(MailWizzError, match="MailWizz refused the request"):
        client.campaign_bounce_create(campaign_uid="cu1", subscriber_uid="x", message="m", bounce_type="odd")


def test_it_reports_a_refused_connection_as_unavailable(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    client = MailWizzClient(base_url="http://127.0.0.1:9/api", api_key="k", timeout=0.5)
    with pytest.raises(MailWizzUnavailable, match="cannot connect"):
        client.ping()


def test_it_pages_through_every_campaign(mw):
    for i in range(2, 8):
        mw.add_campaign(f"cu{i}", name=f"Campaign {i}", list_uid="lu1")
    uids = [r["campaign_uid"] for r in client_for(mw).iter_campaigns(per_page=3)]
    assert uids == [f"cu{i}" for i in range(1, 8)]
    assert [c["query"]["page"] for c in mw.calls("GET", "/campaigns")] == ["1", "2", "3"]


def test_it_builds_the_1x_signature_as_documented():
    params = {"X-MW-TIMESTAMP": "1700000000", "X-MW-PUBLIC-KEY": "pub", "EMAIL": "a b~c@x.example"}
    assert (
        php_build_query(params) == "X-MW-TIMESTAMP=1700000000&X-MW-PUBLIC-KEY=pub&EMAIL=a+b%7Ec%40x.example"
    )
    import hashlib
    import hmac

    text = (
        "PUT https://mw.example/api/x?EMAIL=a+b%7Ec%40x.example&X-MW-PUBLIC-KEY=pub&X-MW-TIMESTAMP=1700000000"
    )
    expected = hmac.new(b"priv", text.encode(), hashlib.sha1).hexdigest()
    assert (
        mw1_signature(method="put", url="https://mw.example/api/x", params=params, private_key="priv")
        == expected
    )
    # With a query string already in the URL, the parameters are joined with '&'.
    text = "GET https://mw.example/api/x?page=1&X-MW-PUBLIC-KEY=pub"
    expected = hmac.new(b"priv", text.encode(), hashlib.sha1).hexdigest()
    assert (
        mw1_signature(
            method="GET",
            url="https://mw.example/api/x?page=1",
            params={"X-MW-PUBLIC-KEY": "pub"},
            private_key="priv",
        )
        == expected
    )
