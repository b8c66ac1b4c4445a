"""The Celery app takes its settings from config.py."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from jobs.celery_app import make_celery

ROOT = Path(__file__).resolve().parent.parent
MONGO = "mongodb://mongo:27017/e4e?replicaSet=rs0"


def test_without_a_broker_tasks_run_at_once():
    app = make_celery(load_settings({}))
    assert app.conf.task_always_eager is True

    @app.task
    def double(x):
        return 2 * x

    assert double.delay(21).get() == 42


def test_broker_and_backend_come_from_the_environment():
    app = make_celery(load_settings({"CELERY_BROKER_URL": "redis://redis:6379/0", "CELERY_RESULT_BACKEND": "redis://redis:6379/1",
                                     "MONGODB_URI": MONGO}))
    assert app.conf.broker_url == "redis://redis:6379/0" and app.conf.result_backend == "redis://redis:6379/1"
    assert app.conf.task_always_eager is False and app.conf.task_acks_late is True


def test_beat_ticks_the_export_dispatcher_and_the_daily_digest_and_the_worker_knows_them():
    app = make_celery(load_settings({"CELERY_BROKER_URL": "redis://redis:6379/0", "MONGODB_URI": MONGO}))
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {"exports.dispatch", "exports.sweep", "dashboards.refresh", "digest.daily",
                         "exports.remove_old_files", "grants.check_pots", "risk.sweep", "privacy.retention"}
    assert scheduled | {"exports.build", "exports.deliver", "privacy.email_managers"} <= set(app.tasks)


def test_a_broker_without_a_mongodb_uri_is_refused_with_one_line():
    with pytest.raises(ConfigError, match="CELERY_BROKER_URL is set but MONGODB_URI is not"):
        load_settings({"CELERY_BROKER_URL": "redis://redis:6379/0"})


def test_the_worker_refuses_to_start_with_a_broker_but_no_mongodb_uri():
    env = {key: value for key, value in os.environ.items() if key not in {"MONGODB_URI", "APP_ENV"}}
    env["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"
    worker = subprocess.run([sys.executable, "-m", "celery", "-A", "jobs.celery_app", "worker", "--pool=solo"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 2
    lines = worker.stderr.strip().splitlines()
    assert lines == ["Refusing to start: CELERY_BROKER_URL is set but MONGODB_URI is not: web app and worker would "
                     "each use their own empty in-memory database; set MONGODB_URI to the shared MongoDB"], worker.stderr
