"""Every operation of the JSON API, read from its OpenAPI schema, with a body that passes schema validation.

The crawls (isolation, personas, no token) walk this list, so a new route is covered the moment it exists.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from emailengine.api import api

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # "/api/v1/ips/{address}/pause"
    operation_id: str
    params: tuple[str, ...]
    body_schema: dict[str, Any] | None
    multipart: bool = False

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def url(self, values: dict[str, Any]) -> str:
        url = self.path
        for name in self.params:
            url = url.replace("{" + name + "}", str(values[name]))
        return url

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


@cache
def schema() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def operations() -> list[Operation]:
    found = []
    components = schema().get("components", {}).get("schemas", {})
    for path, methods in schema()["paths"].items():
        for method, spec in methods.items():
            params = tuple(p["name"] for p in spec.get("parameters", []) if p["in"] == "path")
            content = spec.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            multipart = content.get("multipart/form-data", {}).get("schema")
            found.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=spec["operationId"],
                    params=params,
                    body_schema=_resolve(body or multipart, components) if body or multipart else None,
                    multipart=multipart is not None,
                )
            )
    return found


def _resolve(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolve(components[node["$ref"].rsplit("/", 1)[-1]], components)
        return {k: _resolve(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, components) for v in node]
    return node


def call(client: Any, op: Operation, url: str) -> Any:
    """Call `op` at `url` with a placeholder body (JSON, or a small CSV file for uploads)."""
    if op.method == "get":
        return client.get(url)
    if op.multipart:
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {k: v for k, v in placeholder(op.body_schema).items() if v is not None}
        data["file"] = SimpleUploadedFile("x.csv", b"email\nsomeone@example.com\n", content_type="text/csv")
        return client.client.post(url, data, headers=client.headers)
    return getattr(client, op.method)(url, placeholder(op.body_schema))


def placeholder(node: dict[str, Any] | None) -> Any:
    """A value that the schema accepts: enough to get past validation to the access check."""
    if node is None:
        return {}
    if "enum" in node:
        return node["enum"][0]
    if "default" in node:
        return node["default"]
    if "anyOf" in node:
        return placeholder(node["anyOf"][0])
    kind = node.get("type")
    if kind == "object":
        return {name: placeholder(prop) for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if node.get("format") == "date":
        return "2026-01-01"
    if node.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    if node.get("format") == "email":
        return "someone@example.com"
    return "x"
