"""Which role holds which permission by default; an admin changes them at run time in the Roles screen.

A permission is `<screen>.<action>` (client.list, client.edit, client.action.reassign, …), a case-file
task `casefile.<part>.<add|edit|remove>` (casefile.contacts.add, …), or one of the standing permissions below. Defaults are patterns matched against every permission the
screens declare, so a new screen gets sensible defaults without editing this table.
"""
from __future__ import annotations

from fnmatch import fnmatch

from admin_app.privacy.classes import permission_labels as field_class_permissions

STANDING_PERMISSIONS = {
    "caseload.all": "See every client's case file, not only your own caseload",
    "caseload.override_cap": "Assign a worker beyond their caseload cap, with a recorded reason",
    "dashboard.service": "See the service dashboard",
    "dashboard.caseload": "See the my-caseload dashboard",
    "exports.all": "See and download every export run, not only those you started or received",
    "grants.all": "See every grant bid sent to the panel (the client's reference and first name only)",
    "employercontacts.all": "Add, change or remove any worker's general employer contacts, not only your own",
    "evaluator.dashboard": "See the evaluator dashboard: pseudonymised, consented clients only, small counts withheld",
    "evaluator.api": "Use the evaluator API with a token an administrator issued",
    "evaluator.extract": "Start the evaluator extract for a period (and see only one's own runs)",
    "caseload.break_glass": "Open a case file outside your caseload (read only), after giving a reason; managers are told",
    **field_class_permissions(),
}

#: Hard deletion of a case file: no role holds it by default; a case file is anonymised instead (docs/data-protection.md).
HARD_DELETE = "client.delete"

ADMIN_ROLE = "admin"

DEFAULT_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # An administrator issues evaluator API tokens but does not read the evaluator channels (no role does unless granted).
    ADMIN_ROLE: ("*", f"!{HARD_DELETE}", "!evaluator.*"),
    "manager": (
        "fieldclass.*", f"!{HARD_DELETE}", "retention.report",
        "caseload.all", "caseload.override_cap", "employercontacts.all", "dashboard.*",
        "client.*", "casefile.*", "organisation.*", "employer.*", "staffprofile.*",
        "auditevent.list", "auditevent.details", "auditevent.export",
        "exports.all", "exportschedule.*", "exportrun.*", "savedfilter.*",
        "grantbid.list", "grantbid.queue", "grantbid.details", "grantbid.attachment",
        "grantbid.approve", "grantbid.reject", "grantbid.withdraw", "grantbid.close", "grantpot.*",
        "fidelityreview.*", "fidelityanchor.*", "stafftime.*",
        "risk.view", "riskalert.*", "visit.*", "venue.*", "group.*", "affiliation.*",
    ),
    "worker": (
        "fieldclass.*",
        "dashboard.caseload", "savedfilter.*",
        "client.list", "client.details", "client.create", "client.edit", "client.casefile",
        "casefile.*.add", "casefile.*.edit",
        "employer.list", "employer.details", "employer.create", "employer.edit",
        "organisation.list", "organisation.details",
        "grantbid.list", "grantbid.details", "grantbid.create", "grantbid.edit", "grantbid.attachment",
        "grantbid.submit", "grantbid.withdraw",
        # Risk and safety: venues are shared; affiliations and visits only on their own caseload.
        "risk.view", "riskalert.list", "riskalert.details", "riskalert.acknowledge",
        "visit.list", "visit.details", "visit.create", "visit.edit", "visit.checkin", "visit.outcome",
        "venue.list", "venue.details", "venue.create", "venue.edit", "group.list", "group.details",
        "affiliation.list", "affiliation.details", "affiliation.create", "affiliation.edit",
        # Their own staff time (the row scope keeps it to their own).
        "stafftime.list", "stafftime.details", "stafftime.create", "stafftime.edit", "stafftime.delete",
    ),
    "admin_staff": (
        # Identity and contact details only: no criminal-offence, special-category or safeguarding text.
        "fieldclass.identity.read", "fieldclass.contact.read",
        "caseload.all",
        "client.list", "client.details", "client.create", "client.edit", "client.casefile", "client.export",
        # Admin staff fix the everyday record; risk, safeguarding, disclosures and decisions are not theirs.
        *(f"casefile.{part}.{action}" for part in ("contacts", "employer_contacts", "outcomes", "onward_referrals",
                                                    "benefits_sessions") for action in ("add", "edit")),
        "organisation.*", "employer.*", "staffprofile.*", "savedfilter.*", "stafftime.*",
        "grantbid.list", "grantbid.details", "grantbid.attachment", "grantbid.pay", "grantpot.list", "grantpot.details",
    ),
    "grant_panel": (
        "fieldclass.identity.read",
        # The grant ledger is sent to the panel as a link: they sign in to open it.
        "exportrun.list", "exportrun.details", "exportrun.download",
        "grants.all", "grantbid.list", "grantbid.queue", "grantbid.details", "grantbid.attachment",
        "grantbid.review", "grantbid.recommend", "grantpot.list", "grantpot.details",
    ),
    "evaluator": ("evaluator.*", "exportrun.list", "exportrun.details", "exportrun.download"),
    "commissioner": ("dashboard.service", "exportrun.list", "exportrun.details", "exportrun.download"),
    # A client signs in to the client space (/my/) only: no permission of the staff app, ever.
    "client": (),
}

ROLE_DESCRIPTIONS = {
    "admin": "System administrator: users, roles, keys, retention",
    "manager": "Service manager: every case, assignments, referrals, grants, reports",
    "worker": "Employment specialist: their own caseload",
    "admin_staff": "Admin staff: referrals, partners, employers, staff records",
    "grant_panel": "Grant panel member: reviews business start-up grant bids",
    "evaluator": "University evaluator: pseudonymised data only",
    "commissioner": "OPCC: aggregate figures and scheduled returns",
    "client": "A client of the service: their own client space only (/my/), never the staff app",
}


#: Changes to the defaults that existing roles receive once, at the next start (sync-roles), by name: the
#: permissions each role gains (its defaults matching these patterns) and those every role loses. A role
#: records the changes it has had, so an administrator's later edits in the Roles screen stand.
DEFAULT_CHANGES: dict[str, dict[str, tuple[str, ...]]] = {
    "data-protection": {"grant": ("fieldclass.*", "client.anonymise", "client.access_report", "client.subject_access",
                                "client.legal_hold", "retention.report",
                                "exportrun.list", "exportrun.details", "exportrun.download"), "revoke": (HARD_DELETE,)},
    "evaluator-access": {"grant": ("evaluator.*",), "revoke": ()},
}


def expand(patterns: tuple[str, ...], known: set[str]) -> list[str]:
    """The known permissions that match any of the patterns and none of the "!"-patterns."""
    wanted = [p for p in patterns if not p.startswith("!")]
    unwanted = [p[1:] for p in patterns if p.startswith("!")]
    return sorted(p for p in known if any(fnmatch(p, pattern) for pattern in wanted)
                  and not any(fnmatch(p, pattern) for pattern in unwanted))
