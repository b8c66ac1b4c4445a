"""Risk and safety tests: a real Celery worker in this process and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import time

import pytest

from tests.job_worker import running_worker


@pytest.fixture
def job_worker(app, inbox):
    """A real Celery worker thread running our tasks, mailing through the test SMTP server."""
    with running_worker(app, inbox, base_url="https://cases.e4e.example.org") as celery:
        yield celery


def wait_until(condition, seconds=60, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
