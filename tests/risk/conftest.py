"""Risk and safety tests: a real Celery worker in this process and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest


@pytest.fixture
def job_worker(app, inbox):
    """A real Celery worker thread running our tasks, mailing through the test SMTP server."""
    from celery.contrib.testing.worker import start_worker

    from jobs.celery_app import celery
    from tests.test_export_jobs import _new_connections

    settings = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False,
                       mail_retries=3, mail_retry_seconds=1, base_url="https://cases.e4e.example.org")
    app.config["SETTINGS"] = settings
    saved = {key: celery.conf[key] for key in ("broker_url", "task_always_eager", "e4e_settings")}
    celery.conf.update(broker_url=os.environ.get("REDIS_URL") or "memory://", task_always_eager=False,
                       e4e_settings=settings)
    _new_connections(celery)
    celery.control.purge()
    try:
        with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield celery
    finally:
        celery.conf.update(saved)
        _new_connections(celery)


def wait_until(condition, seconds=60, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
