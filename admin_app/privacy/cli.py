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

    @app.cli.command("retention")
    @click.option("--dry-run", is_flag=True, help="List what is due and change nothing.")
    def retention_command(dry_run):
        """Anonymise closed case files past their retention period (not under legal hold); delete old audit entries."""
        from admin_app.privacy import retention

        settings = app.config["SETTINGS"]
        today = london_today()
        due = retention.plan(today, settings.case_file_retention_years, settings.audit_retention_years)
        click.echo(f"Retention on {today:%d/%m/%Y}: case files {settings.case_file_retention_years} years after "
                   f"closing, audit entries {settings.audit_retention_years} years")
        for item in due.due:
            click.echo(f"  due: {item.reference} closed {item.closed_on:%d/%m/%Y}, due {item.due_on:%d/%m/%Y}")
        for item in due.held:
            click.echo(f"  held: {item.reference} due {item.due_on:%d/%m/%Y}, legal hold: {item.legal_hold}")
        for item in due.unknown:
            click.echo(f"  no closing date: {item.reference} (record the closure in its status history)")
        click.echo(f"  {len(due.due)} case files due, {len(due.held)} under legal hold, {len(due.upcoming)} due "
                   f"within a year; {due.audit_due} audit entries older than {settings.audit_retention_years} years")
        if dry_run:
            click.echo("dry run: nothing changed")
            return
        result = retention.sweep(today, settings.case_file_retention_years, settings.audit_retention_years)
        click.echo(f"anonymised {len(result.anonymised)} case files; deleted {result.audit_deleted} audit entries")
        for reference, why in result.skipped:
            click.echo(f"  skipped {reference}: {why}")

    @app.cli.command("legal-hold")
    @click.argument("reference")
    @click.option("--reason", help="Why the case file must be kept (a claim, a court order); required to place a hold.")
    @click.option("--lift", is_flag=True, help="Lift the hold instead.")
    def legal_hold_command(reference, reason, lift):
        """Place or lift a legal hold: a held case file is never anonymised by the retention sweep."""
        from admin_app.privacy.anonymise import CannotAnonymise
        from admin_app.privacy.retention import set_legal_hold

        reason = (reason or "").strip()
        if lift == bool(reason):
            raise click.ClickException("give --reason TEXT to place a hold, or --lift to lift it (not both)")
        try:
            set_legal_hold(reference.strip(), None if lift else reason, "cli:legal-hold")
        except CannotAnonymise as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"legal hold on {reference} " + ("lifted" if lift else f"placed: {reason}"))
