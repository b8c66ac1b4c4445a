"""Background jobs: the Celery app and its tasks; never imports the Flask app."""
