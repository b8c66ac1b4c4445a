"""The Celery app, configured from config.py; a worker connects to MongoDB itself and needs no Flask app.

`celery -A jobs.celery_app worker` and `celery -A jobs.celery_app beat` use the module-level `celery`.
Without a broker (embedded mode) tasks run at once in the calling process.
"""
from __future__ import annotations

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init

from config import Settings, load_settings


def make_celery(settings: Settings) -> Celery:
    app = Celery("e4e", include=["jobs.tasks"])
    app.conf.update(
        broker_url=settings.broker_url or "memory://",
        result_backend=settings.result_backend,
        task_always_eager=settings.broker_url is None,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Europe/London",
        enable_utc=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # Beat only ticks; the dispatcher decides what is due from the schedules in MongoDB.
        beat_schedule={
            "dispatch-exports": {"task": "exports.dispatch", "schedule": 60.0},
            "daily-digest": {"task": "digest.daily", "schedule": crontab(hour=7, minute=0)},
            "remove-old-export-files": {"task": "exports.remove_old_files", "schedule": crontab(hour=3, minute=0)},
            "check-grant-pots": {"task": "grants.check_pots", "schedule": crontab(hour=3, minute=30)},
            "retention-sweep": {"task": "privacy.retention", "schedule": crontab(hour=2, minute=30)},
        },
    )
    app.conf.e4e_settings = settings
    return app


celery = make_celery(load_settings())


def ensure_database() -> None:
    """Connect to MongoDB unless this process already is (an eager task inside the web app, a test)."""
    from mongoengine.connection import DEFAULT_CONNECTION_NAME, _connection_settings

    if DEFAULT_CONNECTION_NAME not in _connection_settings:
        from admin_app.db import connect

        connect(celery.conf.e4e_settings)


@worker_process_init.connect
def _connect_database(**kwargs) -> None:
    ensure_database()
