"""Finding: /metrics relied on nginx alone (anything reaching the web port read every tenant's traffic
figures). With METRICS_TOKEN set it needs that bearer token; without it, behaviour is unchanged."""

import pytest

pytestmark = pytest.mark.django_db


def test_without_a_token_setting_metrics_stay_open(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", "Basic c2NyYXBlcjpzM2NyZXQ=", "s3cret-metrics", "Bearer "]
)
def test_with_a_token_setting_metrics_need_that_bearer_token(client, settings, header):
    settings.METRICS_TOKEN = "s3cret-metrics"
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"emailengine_" not in response.content and b"django_http" not in response.content


def test_the_right_token_gets_the_metrics(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert response.status_code == 200
    assert b"django_http_requests" in response.content
