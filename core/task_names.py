"""Task names are what queued messages and beat rows refer to, so a task that moves keeps its old name too."""

from collections.abc import Callable
from typing import Any

from celery import shared_task


def also_registered_as[F: Callable[..., Any]](old_name: str) -> Callable[[F], F]:
    """Register the function under `old_name` as well (under the `@shared_task` that gives its new name).

    A worker that starts after an upgrade still runs the messages queued under the old name.
    """

    def register(fn: F) -> F:
        shared_task(name=old_name, ignore_result=True)(fn)
        return fn

    return register
