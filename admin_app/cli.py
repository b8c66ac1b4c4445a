"""Commands on the app: flask --app admin_app <command>."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask_security import hash_password

from admin_app.metrics.periods import london_today
from admin_app import audit
from admin_app.models.people import User
from admin_app.security import datastore, password_problems, sign_in_address, sync_roles
from admin_app.vocabulary import ROLES

DEMO_DOMAIN = "demo.e4e"
DEMO_WORKERS = ("Amara Okafor", "Jordan Hayes", "Priya Sandhu", "Marcus Bell")


def demo_users() -> list[tuple[str, str, str]]:
    """(email, name, role) of the demo users: one per role, four workers."""
    users = [(f"{role}@{DEMO_DOMAIN}", title, role) for role, title in ROLES if role != "worker"]
    users += [(f"worker{i}@{DEMO_DOMAIN}", name, "worker") for i, name in enumerate(DEMO_WORKERS, start=1)]
    return users


def seed_demo_data(clients: int = 100) -> dict:
    """Demo users (embedded mode only) and demo case files. Idempotent."""
    settings = current_app.config["SETTINGS"]
    if not settings.embedded:
        raise click.ClickException("Demo users and data exist only in embedded (demo) mode.")
    with audit.acting_as("seed-demo"):
        sync_roles()
        password = hash_password(current_app.config["DEMO_PASSWORD"])
        for email, name, role in demo_users():
            if User.objects(email=email).first() is None:
                datastore.create_user(email=email, name=name, password=password, roles=[role])
        from admin_app.models.case_file import Client

        if Client.objects.count():
            return {"clients": Client.objects.count()}
        from admin_app.db import database
        from admin_app.demo import generate_demo, replay_grant_bids

        workers = [User.objects(email=e).first() for e, _, r in demo_users() if r == "worker"]
        managers = [User.objects(email=f"manager@{DEMO_DOMAIN}").first()]
        counts = generate_demo(workers, managers, today=london_today(), clients=clients)
        counts |= replay_grant_bids(database(), london_today(), worker_by=f"worker1@{DEMO_DOMAIN}",
                                    panel_by=f"grant_panel@{DEMO_DOMAIN}", manager_by=f"manager@{DEMO_DOMAIN}",
                                    payments_by=f"admin_staff@{DEMO_DOMAIN}")
        counts["export_schedules"] = seed_demo_schedules()
        from datetime import datetime

        from admin_app.demo import seed_export_runs

        counts |= seed_export_runs(settings, datetime.utcnow())
        counts["fidelity_reviews"] = seed_demo_fidelity_review(f"manager@{DEMO_DOMAIN}")
        from admin_app.risk.alerts import london_now
        from admin_app.risk.demo import seed_risk_demo

        counts |= seed_risk_demo(london_today(), london_now(), managers[0])
        from admin_app.privacy.demo import seed_demo as seed_privacy_demo

        counts |= seed_privacy_demo(london_today(), DEMO_DOMAIN)
        from admin_app.client_space.demo import seed_client_space_demo

        counts |= seed_client_space_demo(london_today(), london_now(), DEMO_DOMAIN, password)
        return counts


def seed_demo_fidelity_review(manager: str) -> int:
    """Last quarter's fidelity review, scored by the manager and from the figures as the screen scores it."""
    from datetime import datetime

    from admin_app.export_runs import period_for
    from admin_app.metrics import fidelity
    from admin_app.models.fidelity import FidelityReview, ItemScore
    from admin_app.metrics.scoring import score_review

    if FidelityReview.objects.count():
        return 0
    today = london_today()
    period = period_for("previous_quarter", today)
    scores = [ItemScore(item=item, score=(3, 4, 5, 4)[number % 4], note="Seen in supervision and case audits.")
              for number, item in enumerate(fidelity.MANAGER_ITEMS)]
    review = FidelityReview(review_date=today, period_start=period.start, period_end=period.end, manager_scores=scores,
                            created_by=manager, updated_by=manager, created_at=datetime.utcnow())
    score_review(review, today)
    review.save()
    return 1


def seed_demo_schedules() -> int:
    """The schedules a real installation would start with, sent to the demo commissioner and evaluator."""
    from datetime import datetime

    from admin_app.export_runs import next_due
    from admin_app.models.exports import ExportSchedule

    schedules = (
        ("OPCC quarterly return", "opcc_return", "previous_quarter", "0 7 5 1,4,7,10 *", "attachment",
         [f"commissioner@{DEMO_DOMAIN}"]),
        ("Evaluator monthly extract", "evaluator_extract", "previous_month", "0 6 2 * *", "link",
         [f"evaluator@{DEMO_DOMAIN}"]),
        ("Grant ledger, quarterly", "grant_ledger", "previous_quarter", "0 7 5 1,4,7,10 *", "link",
         [f"manager@{DEMO_DOMAIN}", f"grant_panel@{DEMO_DOMAIN}"]),
    )
    made = 0
    for name, report, rule, cron, delivery, recipients in schedules:
        if ExportSchedule.objects(name=name).first() is None:
            ExportSchedule(name=name, report=report, period_rule=rule, cron=cron, delivery=delivery,
                           recipients=recipients, created_by=f"manager@{DEMO_DOMAIN}",
                           next_due_at=next_due(cron, datetime.utcnow())).save()
            made += 1
    return made


def register_cli(app: Flask) -> None:
    from admin_app.privacy.cli import register as register_privacy

    register_privacy(app)

    @app.cli.command("sync-roles")
    @click.option("--reset", is_flag=True, help="Put every role back to its default permissions.")
    def sync_roles_command(reset):
        """Create the default roles and permissions (safe to run again)."""
        with audit.acting_as("cli:sync-roles"):
            messages = sync_roles(reset=reset)
        for line in messages or ["roles already up to date"]:
            click.echo(line)

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r for r, _ in ROLES]),
                  help="A role to give; repeat for several.")
    @click.option("--name", default="", help="The person's name.")
    @click.password_option(help="The password (asked for when not given).")
    def create_user_command(email, roles, name, password):
        """Create a user with one or more roles."""
        try:
            # Stored as the sign-in form will look it up; an address the form refuses could never sign in.
            email = sign_in_address(email.strip()).lower()
        except ValueError as exc:
            raise click.ClickException(f"{email.strip()} cannot be used to sign in: {exc}") from None
        if User.objects(email=email).first():
            raise click.ClickException(f"A user with email {email} already exists.")
        problems = password_problems(password, email=email, name=name)
        if problems:
            raise click.ClickException("The password cannot be used: " + " ".join(problems))
        with audit.acting_as("cli:create-user"):
            sync_roles()
            datastore.create_user(email=email, name=name, password=hash_password(password), roles=list(roles))
        click.echo(f"created {email} with roles {', '.join(roles)}")

    @app.cli.command("import-cases")
    @click.argument("path", type=click.Path(dir_okay=False))
    def import_cases_command(path):
        """Import case files from a JSON Lines file (docs/case-file-format.md); all or nothing."""
        from admin_app.casefile_io import import_cases

        try:
            stream = open(path, "rb")
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror}")
        with stream, audit.acting_as("cli:import-cases"):
            result = import_cases(_utf8_lines(stream, path), today=london_today())
        if result.errors:
            for line in result.messages():
                click.echo(line, err=True)
            raise click.ClickException(f"nothing imported: {len(result.errors)} problem(s) in {path}")
        audit.record("import", collection="clients", summary=f"imported {result.imported} case files from {path}",
                     actor="cli:import-cases")
        click.echo(f"imported {result.imported} case files")

    @app.cli.command("export-cases")
    @click.argument("path", type=click.Path(dir_okay=False))
    def export_cases_command(path):
        """Export every case file to a JSON Lines file (plain text: keep it safe)."""
        from admin_app.casefile_io import export_cases
        from admin_app.models.case_file import Client

        try:
            stream = open(path, "w", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {path}: {exc.strerror}")
        with stream:
            count = export_cases(stream, Client.objects.order_by("reference"))
        audit.record("export", collection="clients", summary=f"exported {count} case files to {path}", actor="cli:export-cases")
        click.echo(f"exported {count} case files to {path}")

    @app.cli.command("assign-item-ids")
    def assign_item_ids_command():
        """Give every case-file list item stored before items had ids its own id (safe to run at any time)."""
        from admin_app.casework.writes import assign_missing_item_ids, missing_item_ids_match
        from admin_app.models.case_file import Client

        count = 0
        with audit.acting_as("cli:assign-item-ids"):
            for doc in Client._get_collection().find(missing_item_ids_match(), {"_id": 1}):
                count += assign_missing_item_ids(doc["_id"])
        click.echo(f"gave ids to the items of {count} case files")

    @app.cli.command("index-search-keys")
    def index_search_keys_command():
        """Make the search keys (folded reference and names) of case files stored before search used them."""
        from admin_app.models.case_file import Client
        from admin_app.search import client_search_keys

        collection, count = Client._get_collection(), 0
        fields = {"reference": 1, "first_name": 1, "last_name": 1}
        for doc in collection.find({"search_keys": {"$exists": False}}, fields):
            keys = client_search_keys(doc.get("reference"), doc.get("first_name"), doc.get("last_name"))
            count += collection.update_one({"_id": doc["_id"], "search_keys": {"$exists": False}},
                                           {"$set": {"search_keys": keys}}).modified_count
        click.echo(f"made the search keys of {count} case files")

    @app.cli.command("backfill-assignments")
    def backfill_assignments_command():
        """Start the assignment history of every case file stored without one: its current worker, from the
        referral date (safe to run at any time; reports then credit that worker with the case's whole past)."""
        from admin_app.casework.assignment import backfill
        from admin_app.models.case_file import Client

        with audit.acting_as("cli:backfill-assignments"):
            count = backfill(Client._get_collection())
        click.echo(f"started the assignment history of {count} case files")

    @app.cli.command("rotate-keys")
    def rotate_keys_command():
        """Re-encrypt every encrypted field under the first key in FIELD_ENCRYPTION_KEYS; encrypt values stored in
        plain text before their field was encrypted."""
        from admin_app.keys import StillChanging, rotate_client_keys

        try:
            count = rotate_client_keys()
        except StillChanging as exc:
            raise click.ClickException(str(exc)) from None
        audit.record("update", collection="clients", summary=f"re-encrypted {count} fields under the current key",
                     actor="cli:rotate-keys")
        click.echo(f"re-encrypted {count} fields; the old key can be removed once every copy is rotated")

    @app.cli.command("kpis")
    @click.option("--from", "start", required=True, help="First day of the period, YYYY-MM-DD (inclusive).")
    @click.option("--to", "end", required=True, help="Last day of the period, YYYY-MM-DD (inclusive).")
    @click.option("--worker", "worker_email", default=None, help="Only this worker's caseload and figures.")
    @click.option("--format", "output", type=click.Choice(["json", "table"]), default="table", show_default=True)
    def kpis_command(start, end, worker_email, output):
        """Print the KPIs, targets and fidelity indicators for a period (docs/metrics.md).

        A period still running is judged as of today, as the dashboards judge it.
        """
        import json

        from bson import ObjectId

        from admin_app.db import database
        from admin_app.metrics.periods import Period
        from admin_app.metrics.report import as_of_for, load_report

        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise click.ClickException("--from and --to must be dates written YYYY-MM-DD") from None
        if last < first:
            raise click.ClickException("--to must not be before --from")
        period = Period(first, last)
        match = {}
        if worker_email:
            worker = User.objects(email=worker_email.strip().lower()).first()
            if worker is None:
                raise click.ClickException(f"no user with email {worker_email}")
            match = {"worker": ObjectId(str(worker.pk))}
        try:
            report = load_report(database(), match, period, as_of=as_of_for(period, london_today()))
        except ValueError as exc:
            raise click.ClickException(f"the stored fidelity anchors cannot score ({exc}); correct them on the anchors screen")
        if output == "json":
            click.echo(json.dumps(report, indent=2, sort_keys=True, default=str))
            return
        service = report.get("service", report)
        click.echo(f"KPIs {period.start:%d/%m/%Y} to {period.end:%d/%m/%Y}" + (f" for {worker_email}" if worker_email else ""))
        as_of = date.fromisoformat(report["as_of"])
        if report["period"]["running"]:
            click.echo(f"  the period is still running: figures judged as of {as_of:%d/%m/%Y}")
        for month in service.get("by_month", []):
            click.echo(f"  {'month ' + month['month'] + ': referrals, job starts':<56} {month['referrals']}, {month['job_starts']}")
        for key, value in service.items():
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if not isinstance(inner, (dict, list)):
                        click.echo(f"  {key.replace('_', ' ') + ': ' + sub.replace('_', ' '):<56} {inner}")
            elif not isinstance(value, list):
                click.echo(f"  {key.replace('_', ' '):<56} {value}")

    @app.cli.command("seed-demo")
    @click.option("--clients", default=100, show_default=True, help="How many demo case files.")
    def seed_demo_command(clients):
        """Seed demo users (one per role) and demo case files; embedded mode only."""
        counts = seed_demo_data(clients)
        click.echo("seeded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    @app.cli.command("dispatch-exports")
    def dispatch_exports_command():
        """Start every export schedule that is due now (what beat does each minute)."""
        from jobs.tasks import dispatch_exports

        run_ids = dispatch_exports.apply().get()
        click.echo(f"{len(run_ids)} run(s) started" + (": " + ", ".join(run_ids) if run_ids else ""))

    @app.cli.command("check-pots")
    @click.option("--repair", is_flag=True, help="Set each drifted pot's figures to what its bids add up to.")
    def check_pots_command(repair):
        """Check each grant pot's committed and paid figures against its bids' histories.

        Exits 1 while any pot is out of step. A pot being changed at that moment is left alone (docs/grants.md).
        """
        from admin_app.db import database
        from admin_app.grants import POTS, pot_drift, repair_pot

        db = database()
        drift = pot_drift(db)
        if not drift:
            click.echo("every grant pot matches its bids")
            return
        unrepaired = 0
        for found in drift:
            if not repair:
                click.echo("out of step: " + found.describe())
                unrepaired += 1
            elif found.committed_pence > found.total_pence:
                click.echo(f"not repaired: {found.describe()}; that is more than the pot's total, so check its bids")
                unrepaired += 1
            elif repair_pot(db, found):
                audit.record("update", collection=POTS, summary="figures set from the bids: " + found.describe(),
                             actor="cli:check-pots")
                click.echo("repaired: " + found.describe())
            else:
                click.echo(f"not repaired: {found.pot} changed while it was checked; run check-pots again")
                unrepaired += 1
        if unrepaired:
            raise SystemExit(1)


def _utf8_lines(stream, path: str):
    """The file's lines as text; a byte that is not UTF-8 stops the import with its line number."""
    for number, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"nothing imported: line {number} of {path} is not UTF-8 text "
                                       f"(byte {exc.start + 1} of the line); save the file as UTF-8 and try again") from None
