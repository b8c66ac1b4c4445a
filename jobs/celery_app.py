"""The Celery app, configured from config.py; a worker connects to MongoDB itself and needs no Flask app.

`celery -A jobs.celery_app worker` and `celery -A jobs.celery_app beat` use the module-level `celery`.
Without a broker (embedded mode) tasks run at once in the calling process.
"""
from __future__ import annotations

import os
import sys

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init

from config import ConfigError, Settings, load_settings


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
        beat_schedule=beat_schedule(settings),
    )
    app.conf.e4e_settings = settings
    return app


def beat_schedule(settings: Settings) -> dict:
    """What beat ticks (and, in embedded mode, the web app's own in-process ticker).

    Beat only ticks; the dispatcher decides what is due from the schedules in MongoDB, and the
    sweeper what is to be resumed or retried from the runs."""
    return {
        "dispatch-exports": {"task": "exports.dispatch", "schedule": float(settings.sweep_seconds)},
        "sweep-exports": {"task": "exports.sweep", "schedule": float(settings.sweep_seconds)},
        "refresh-dashboards": {"task": "dashboards.refresh", "schedule": float(settings.sweep_seconds)},
        "daily-digest": {"task": "digest.daily", "schedule": crontab(hour=7, minute=0)},
        "remove-old-export-files": {"task": "exports.remove_old_files", "schedule": crontab(hour=3, minute=0)},
        "check-grant-pots": {"task": "grants.check_pots", "schedule": crontab(hour=3, minute=30)},
        "risk-sweep": {"task": "risk.sweep", "schedule": 60.0},
        "retention-sweep": {"task": "privacy.retention", "schedule": crontab(hour=2, minute=30)},
    }


def _settings_or_exit() -> Settings:
    """The worker's settings; a missing or unsafe one stops the process with one line, no traceback."""
    try:
        return load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"Refusing to start: {exc}\n")
        sys.stderr.flush()
        os._exit(2)  # celery's loader reports even SystemExit with a traceback


celery = make_celery(_settings_or_exit())


def later(name: str, *args) -> None:
    """Queue the task declared under `name` (run at once where there is no broker); raises what the broker raises.

    The domain asks for background work by name, so it never imports jobs/tasks.py, which imports the domain
    to do the work. The task modules are the ones the app names in `include`, imported on first need."""
    if name not in celery.tasks:
        celery.loader.import_default_modules()
    celery.tasks[name].delay(*args)


def ensure_database() -> None:
    """Connect to MongoDB unless this process already is (an eager task inside the web app, a test)."""
    from mongoengine.connection import DEFAULT_CONNECTION_NAME, _connection_settings

    if DEFAULT_CONNECTION_NAME not in _connection_settings:
        from admin_app.db import connect

        connect(celery.conf.e4e_settings)


@worker_process_init.connect
def _connect_database(**kwargs) -> None:
    ensure_database()
