from celery import shared_task


@shared_task
def ping(value: str = "pong") -> str:
    """A broker round trip without side effects, for health checks and the broker test."""
    return value
