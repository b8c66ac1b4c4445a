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

    @app.cli.command("sar")
    @click.argument("reference")
    @click.argument("out", type=click.Path(dir_okay=False))
    def sar_command(reference, out):
        """Write everything held about one client (decrypted) to a zip archive, for a subject access request."""
        import os

        from admin_app.privacy.subject_access import NoSuchCaseFile, produce

        if os.path.exists(out):
            raise click.ClickException(f"{out} already exists; give a new file name (nothing was written)")
        try:
            with open(out, "xb") as target:
                try:
                    names = produce(reference.strip(), target, "cli:sar")
                except NoSuchCaseFile as exc:
                    target.close()
                    os.remove(out)
                    raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
        click.echo(f"wrote the subject access archive of {reference} to {out}: {', '.join(names)}. "
                   "It holds the case file decrypted: keep it safe and give it to the person securely.")
