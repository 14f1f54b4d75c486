from typing import Any

from warmup.reply_rules import reply_rules_evaluate


def on_accounting_batch(sender: Any, events: list[dict], **kwargs: Any) -> None:
    """Reply rules run as records arrive, right after each committed import batch."""
    reply_rules_evaluate(events=events)
