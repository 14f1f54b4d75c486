"""Calling the JSON API in tests as a given user, through a real token and the real auth."""

import json
import secrets
from typing import Any

from django.test import Client

from tenants.services import api_token_create


class ApiClient:
    """A test client that sends `Authorization: Bearer <token>` and JSON bodies."""

    def __init__(self, token: str | None, token_name: str = "") -> None:
        self.client = Client()
        self.token_name = token_name  # what audit events made through it show as `via: api token: <name>`
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, data: Any = None, **params: Any):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        fn = getattr(self.client, method)
        if method == "get":
            return fn(url, data or params or None, headers=self.headers)
        body = json.dumps(data if data is not None else {})
        return fn(url, body, content_type="application/json", headers=self.headers)

    def get(self, path: str, **params: Any):
        return self._call("get", path, **params)

    def post(self, path: str, data: Any = None):
        return self._call("post", path, data)

    def patch(self, path: str, data: Any = None):
        return self._call("patch", path, data)

    def put(self, path: str, data: Any = None):
        return self._call("put", path, data)

    def delete(self, path: str, data: Any = None):
        return self._call("delete", path, data)


def api_as(user, name: str = "tests") -> ApiClient:
    """An API client acting as `user` through a fresh personal token."""
    label = f"{name}-{secrets.token_hex(4)}"
    _, raw = api_token_create(user=user, name=label, by=user)
    return ApiClient(raw, label)
