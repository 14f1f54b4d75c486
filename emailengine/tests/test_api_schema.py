"""The OpenAPI schema is a contract: a change to it shows up in review as a change to api_schema.json.

After an intended change: `UPDATE_API_SCHEMA=1 pytest emailengine/tests/test_api_schema.py` rewrites the
snapshot; commit it with the change.
"""

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from emailengine.tests.api_routes import operations, schema

SNAPSHOT = Path(__file__).with_name("api_schema.json")


def test_it_matches_the_committed_schema():
    current = json.dumps(schema(), indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_API_SCHEMA") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_API_SCHEMA=1"
    assert current == SNAPSHOT.read_text(), (
        "the API schema changed: if intended, run with UPDATE_API_SCHEMA=1 and commit api_schema.json"
    )


def test_it_gives_every_operation_a_unique_id_and_a_summary():
    ids = Counter(op.operation_id for op in operations())
    assert [i for i, n in ids.items() if n > 1] == []
    missing = [str(op) for op in operations() if not schema()["paths"][op.path][op.method].get("summary")]
    assert missing == []


@pytest.mark.django_db
def test_it_serves_the_schema_and_the_docs_without_a_cdn(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"].keys() == schema()["paths"].keys()
    assert response.json()["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"

    docs = client.get("/api/v1/docs")
    html = docs.content.decode()
    assert docs.status_code == 200
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in ("/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui.css"):
        assert asset in html
        assert client.get(asset).status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_renders_the_docs_under_the_csp(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector("text=Email Engine API")
    page.get_by_text("/api/v1/ips/{address}/pause", exact=True).wait_for()
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
