"""A real Celery worker in the test process, on the in-memory broker or on Redis when REDIS_URL is set.

On Redis every key this process uses carries its own prefix, so test runs sharing one Redis (two
checkouts at once, say) never take, purge or answer each other's tasks.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import replace


@contextmanager
def running_worker(app, inbox, **settings_changes):
    """Run our tasks in a worker thread, mailing through the test SMTP server, until the block ends."""
    from celery.contrib.testing.worker import start_worker

    from jobs.celery_app import celery

    settings = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_tls=False,
                       mail_retries=3, mail_retry_seconds=1, **settings_changes)
    app.config["SETTINGS"] = settings
    keys = ("broker_url", "broker_transport_options", "task_always_eager", "e4e_settings")
    saved = {key: celery.conf[key] for key in keys}
    celery.conf.update(broker_url=os.environ.get("REDIS_URL") or "memory://", task_always_eager=False,
                       broker_transport_options={"global_keyprefix": f"e4e-test-{os.getpid()}:"},
                       e4e_settings=settings)
    _new_connections(celery)
    celery.control.purge()  # nothing left over from an earlier test or run
    try:
        with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield celery
    finally:
        celery.conf.update(saved)
        _new_connections(celery)


def _new_connections(celery):
    """Drop pooled broker connections so the next send uses the broker now configured."""
    from kombu import pools

    pools.reset()
    celery._pool = None
    celery.amqp._producer_pool = None
