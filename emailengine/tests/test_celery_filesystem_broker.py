"""Without REDIS_URL, Celery uses kombu's filesystem transport under var/broker/; the app creates the
transport's folders when it reads its configuration, so an enqueue never fails on a missing folder (it used
to log FileNotFoundError after a webhook commit and lose the follow-up task)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import Celery

from emailengine.celery import FILESYSTEM_BROKER_FOLDERS, app, make_filesystem_broker_folders


def _options(base: Path) -> dict:
    # The shape of settings.CELERY_BROKER_TRANSPORT_OPTIONS without REDIS_URL.
    return {
        "data_folder_in": str(base / "queue"),
        "data_folder_out": str(base / "queue"),
        "processed_folder": str(base / "processed"),
        "control_folder": str(base / "control"),
        "store_processed": False,
    }


def _filesystem_app(base: Path, *, with_hook: bool) -> Celery:
    fresh = Celery("broker-test", set_as_current=False)
    if with_hook:
        fresh.on_after_configure.connect(make_filesystem_broker_folders, weak=False)
    fresh.config_from_object(
        {"broker_url": "filesystem://", "broker_transport_options": _options(base)}, force=False
    )
    return fresh


def test_an_enqueue_fails_on_a_missing_folder_without_the_hook(tmp_path):
    """The failure being guarded against: kombu creates none of the folders itself."""
    bare = _filesystem_app(tmp_path / "var" / "broker", with_hook=False)
    with pytest.raises(FileNotFoundError):
        bare.send_task("anything.task", args=[1])


def test_it_creates_the_missing_folders_and_the_enqueue_succeeds(tmp_path):
    base = tmp_path / "var" / "broker"
    fresh = _filesystem_app(base, with_hook=True)
    fresh.send_task("campaigns.tasks.some_follow_up", args=[1])
    assert {p.name for p in base.iterdir()} == {"queue", "processed", "control"}
    [message] = list((base / "queue").iterdir())
    assert b"campaigns.tasks.some_follow_up" in message.read_bytes()


class _Sender:
    """Stands in for a configured app (signal senders must be hashable)."""

    def __init__(self, conf: SimpleNamespace) -> None:
        self.conf = conf


def test_the_projects_app_runs_the_hook_and_leaves_a_redis_broker_alone(tmp_path):
    base = tmp_path / "broker"
    conf = SimpleNamespace(broker_url="filesystem://", broker_transport_options=_options(base))
    app.on_after_configure.send(sender=_Sender(conf), source=conf)
    assert all(Path(_options(base)[key]).is_dir() for key in FILESYSTEM_BROKER_FOLDERS)

    other = tmp_path / "untouched"
    redis = SimpleNamespace(broker_url="redis://127.0.0.1:6379/0", broker_transport_options=_options(other))
    make_filesystem_broker_folders(_Sender(redis))  # type: ignore[arg-type]
    assert not other.exists()
