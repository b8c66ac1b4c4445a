"""Embedded mode's beat: with no broker there is no beat process, so the web app ticks the same
schedule itself, in a daemon thread, and runs each due task at once in that thread.

Export schedules fire, lost or refused sends are retried by the sweeper, the digest goes at 07:00,
exactly as they would with beat and a worker; only the process differs.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery.schedules import schedule as every

log = logging.getLogger(__name__)
_starting = threading.Lock()


class InProcessBeat:
    """Runs the beat schedule's due tasks inside `app`, checking every `wake_seconds`."""

    def __init__(self, app, entries: dict, wake_seconds: float = 5.0):
        from jobs.celery_app import celery

        celery.loader.import_default_modules()  # registers the tasks the schedule names (jobs.tasks)
        self.app = app
        self.celery = celery
        self.wake_seconds = wake_seconds
        self.entries = {}
        now = celery.now()
        for name, entry in entries.items():
            timing = entry["schedule"]
            if isinstance(timing, (int, float)):
                timing = every(timedelta(seconds=timing))
            timing.app = celery
            # Intervals fire at once on start (a schedule due while the app was down); calendar
            # entries (the 07:00 digest) wait for their time.
            last = now - timing.run_every if isinstance(timing, every) else now
            self.entries[name] = [entry["task"], timing, last]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Run every entry that is due; the names of the tasks run."""
        ran = []
        for entry in self.entries.values():
            task, timing, last = entry
            due, _ = timing.is_due(last)
            if not due:
                continue
            entry[2] = self.celery.now()
            try:
                with self.app.app_context():
                    self.celery.tasks[task].apply(throw=True)
                ran.append(task)
            except Exception:  # one failing job must not stop the others, nor the ticker
                log.exception("in-process job %s failed", task)
        return ran

    def start(self) -> "InProcessBeat":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="e4e-in-process-beat", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.wake_seconds)


def start_for(app) -> InProcessBeat:
    """The app's ticker, started once (the first request starts it, so CLI commands never do)."""
    from jobs.celery_app import beat_schedule

    beat = app.extensions.get("e4e_beat")
    if beat is None:
        with _starting:
            beat = app.extensions.get("e4e_beat")
            if beat is None:
                beat = InProcessBeat(app, beat_schedule(app.config["SETTINGS"])).start()
                app.extensions["e4e_beat"] = beat
    return beat
