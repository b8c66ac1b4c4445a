"""Data-protection commands: anonymise a case file (and, below, the other privacy commands)."""
from __future__ import annotations

import click
from flask import Flask

from admin_app.metrics.periods import london_today


def register(app: Flask) -> None:
    @app.cli.command("anonymise")
    @click.argument("reference")
    @click.option("--reason", required=True, help="Why (an erasure request, the retention rule); kept in the audit log. "
                                                   "Do not name the person.")
    def anonymise_command(reference, reason):
        """Anonymise a closed case file: remove identity, contact and free-text data, keep coded data."""
        from admin_app.privacy.anonymise import CannotAnonymise, anonymise

        try:
            result = anonymise(reference.strip(), reason, "cli:anonymise", london_today())
        except CannotAnonymise as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"anonymised {result.reference}: {result.fields_removed} fields removed, "
                   f"{result.attachments_removed} attachments deleted, {result.records_scrubbed} other records "
                   "scrubbed of the person's names")
