"""PMTA queue listings: `pmta --dom show topqueues` output and the same data as JSON (pure Python).

`--dom` prints one ``path="value"`` line per leaf of the reply's document (UG5 ch.6; real output in
shared/fixtures/pmta/show-topqueues.dom.txt):

    title="Top 100 queues by number of recipients"
    queue[0].name="aol.com/23.236.100.164"
    queue[0].rcp="77"
    queue[0].kb="769.4"
    queue[0].conn="0"
    queue[0].event[0].type="error"
    queue[0].event[0].time="2014-09-20 18:24:33"
    queue[0].event[0].text="skip of MX requested: "421 4.2.1 ..." received from ..."
    queue[0].paused="no"
    queue[0].mode="backoff"
    queue[0].retryTime="2014-09-20 18:25:32"
    totalRcp="61078"
    totalQueuesWithRcp="1428"

Values are not escaped: SMTP replies inside ``text`` keep their own double quotes, so a value is everything
between the first ``="`` and the line's last ``"``. Events are listed newest first.

``--json`` and the web monitor's ``/queues?format=json`` carry the same document as JSON
(``{"data": {"queue": [{"name": ..., "rcp": ..., "mode": ..., "event": [...]}, ...]}}``);
``queues_from_document`` reads either form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Queue", "QueueEvent", "TopQueues", "TopQueuesError", "parse_topqueues", "queues_from_document"]

_LINE = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]]*)=(?P<value>.*)$")
_STEP = re.compile(r"(?P<key>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\])?")


class TopQueuesError(ValueError):
    pass


@dataclass(frozen=True)
class QueueEvent:
    type: str
    time: str
    text: str


@dataclass(frozen=True)
class Queue:
    name: str
    recipients: int
    kb: float | None = None
    connections: int | None = None
    mode: str = "normal"
    paused: bool = False
    retry_time: str = ""
    events: list[QueueEvent] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.name.partition("/")[0]

    @property
    def vmta(self) -> str:
        return self.name.partition("/")[2]

    @property
    def in_backoff(self) -> bool:
        return self.mode == "backoff"

    @property
    def errors(self) -> list[QueueEvent]:
        return [e for e in self.events if e.type == "error"]

    @property
    def last_error(self) -> str:
        errors = self.errors
        return errors[0].text if errors else ""


@dataclass(frozen=True)
class TopQueues:
    queues: list[Queue]
    title: str = ""
    total_recipients: int | None = None
    total_queues_with_recipients: int | None = None

    @property
    def backoff(self) -> list[Queue]:
        return [q for q in self.queues if q.in_backoff]

    def by_recipients(self) -> list[Queue]:
        return sorted(self.queues, key=lambda q: (-q.recipients, q.name))


def _set_path(doc: dict[str, Any], path: str, value: str) -> None:
    steps = path.split(".")
    node: Any = doc
    for i, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        if match is None:
            raise TopQueuesError(f"cannot read the name {path!r}")
        key, index = match["key"], match["index"]
        last = i == len(steps) - 1
        if index is None:
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
            continue
        items = node.setdefault(key, [])
        if not isinstance(items, list):
            raise TopQueuesError(f"{path!r} mixes a value and a list")
        n = int(index)
        if n > len(items) + 10_000:  # a typo like queue[99999999] must not allocate a huge list
            raise TopQueuesError(f"index out of range in {path!r}")
        while len(items) <= n:
            items.append({})
        if last:
            items[n] = value
        else:
            node = items[n]
        if not last and not isinstance(node, dict):
            raise TopQueuesError(f"{path!r} mixes a value and a list")


def _parse_dom(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            raise TopQueuesError(f'line {line_no} is not a `name="value"` line: {line[:80]!r}')
        value = match["value"]
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        try:
            _set_path(doc, match["path"], value)
        except TopQueuesError as exc:
            raise TopQueuesError(f"line {line_no}: {exc}") from None
    return doc


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("yes", "true", "1")
    return bool(value)


def _as_list(value: Any) -> list[Any]:
    # JSON converted from XML turns a one-element list into the element itself.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _queue(item: Any) -> Queue | None:
    if not isinstance(item, dict):
        return None
    name = str(item.get("name") or "").strip()
    if not name:
        return None
    events = [
        QueueEvent(type=str(e.get("type", "")), time=str(e.get("time", "")), text=str(e.get("text", "")))
        for e in _as_list(item.get("event", item.get("events")))
        if isinstance(e, dict)
    ]
    return Queue(
        name=name,
        recipients=_int(item.get("rcp")) or 0,
        kb=_float(item.get("kb")),
        connections=_int(item.get("conn")),
        mode=str(item.get("mode") or "normal").strip().lower(),
        paused=_bool(item.get("paused", False)),
        retry_time=str(item.get("retryTime") or ""),
        events=events,
    )


def queues_from_document(doc: Any) -> TopQueues:
    """Queues from a parsed reply: the ``--dom``/``--json`` document, with or without the ``data`` wrapper."""
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        doc = doc["data"]
    if isinstance(doc, list):
        items: list[Any] = doc
        doc = {}
    elif isinstance(doc, dict):
        raw = doc.get("queue", doc.get("queues"))
        if isinstance(raw, dict) and "name" not in raw:
            raw = raw.get("queue", [])  # {"queues": {"queue": [...]}}
        items = _as_list(raw)
    else:
        raise TopQueuesError("expected an object with a queue list")
    queues = [q for q in (_queue(item) for item in items) if q is not None]
    return TopQueues(
        queues=queues,
        title=str(doc.get("title", "")),
        total_recipients=_int(doc.get("totalRcp")),
        total_queues_with_recipients=_int(doc.get("totalQueuesWithRcp")),
    )


def parse_topqueues(text: str) -> TopQueues:
    """Parse pasted `pmta --dom show topqueues` (or `pmta --json show topqueues`) output."""
    stripped = text.strip()
    if not stripped:
        raise TopQueuesError("nothing to read")
    if stripped.startswith(("{", "[")):
        try:
            doc: Any = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise TopQueuesError(f"not valid JSON: {exc}") from None
    else:
        doc = _parse_dom(stripped)
    result = queues_from_document(doc)
    if not result.queues and result.total_recipients is None:
        raise TopQueuesError("no queues found: paste the output of `pmta --dom show topqueues`")
    return result
