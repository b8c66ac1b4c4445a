"""The Celery app takes its settings from config.py."""
from config import load_settings
from jobs.celery_app import make_celery


def test_without_a_broker_tasks_run_at_once():
    app = make_celery(load_settings({}))
    assert app.conf.task_always_eager is True

    @app.task
    def double(x):
        return 2 * x

    assert double.delay(21).get() == 42


def test_broker_and_backend_come_from_the_environment():
    app = make_celery(load_settings({"CELERY_BROKER_URL": "redis://redis:6379/0", "CELERY_RESULT_BACKEND": "redis://redis:6379/1"}))
    assert app.conf.broker_url == "redis://redis:6379/0" and app.conf.result_backend == "redis://redis:6379/1"
    assert app.conf.task_always_eager is False and app.conf.task_acks_late is True


def test_beat_ticks_the_export_dispatcher_and_the_daily_digest_and_the_worker_knows_them():
    app = make_celery(load_settings({"CELERY_BROKER_URL": "redis://redis:6379/0"}))
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {"exports.dispatch", "digest.daily", "exports.remove_old_files", "grants.check_pots",
                         "privacy.retention"}
    assert scheduled | {"exports.build", "exports.deliver", "privacy.email_managers"} <= set(app.tasks)
