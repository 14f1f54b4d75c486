from datetime import datetime
from typing import Any

from django.db import transaction

from warmup.tasks import reply_rules_check


def on_accounting_batch(sender: Any, failures: dict[str, tuple[datetime, datetime]], **kwargs: Any) -> None:
    """Reply rules run in a worker (warmup queue), enqueued once the import batch has committed: the
    import never waits for them and a rule's error never touches it."""
    payload = {ip: [first.isoformat(), last.isoformat()] for ip, (first, last) in failures.items()}
    transaction.on_commit(lambda: reply_rules_check.delay(payload), robust=True)
