"""Which role holds which permission by default; an admin changes them at run time in the Roles screen.

A permission is `<screen>.<action>` (client.list, client.edit, client.action.reassign, …), a case-file
task `casefile.<part>.<add|edit|remove>` (casefile.contacts.add, …), or one of the standing permissions below. Defaults are patterns matched against every permission the
screens declare, so a new screen gets sensible defaults without editing this table.
"""
from __future__ import annotations

from fnmatch import fnmatch

STANDING_PERMISSIONS = {
    "caseload.all": "See every client's case file, not only your own caseload",
    "caseload.override_cap": "Assign a worker beyond their caseload cap, with a recorded reason",
    "dashboard.service": "See the service dashboard",
    "dashboard.caseload": "See the my-caseload dashboard",
    "exports.all": "See and download every export run, not only those you started or received",
    "grants.all": "See every grant bid sent to the panel (the client's reference and first name only)",
    "employercontacts.all": "Add, change or remove any worker's general employer contacts, not only your own",
}

ADMIN_ROLE = "admin"

DEFAULT_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ADMIN_ROLE: ("*",),
    "manager": (
        "caseload.all", "caseload.override_cap", "employercontacts.all", "dashboard.*",
        "client.*", "casefile.*", "organisation.*", "employer.*", "staffprofile.*",
        "auditevent.list", "auditevent.details", "auditevent.export",
        "exports.all", "exportschedule.*", "exportrun.*", "savedfilter.*",
        "grantbid.list", "grantbid.queue", "grantbid.details", "grantbid.attachment",
        "grantbid.approve", "grantbid.reject", "grantbid.withdraw", "grantbid.close", "grantpot.*",
        "fidelityreview.*", "fidelityanchor.*", "stafftime.*",
    ),
    "worker": (
        "dashboard.caseload", "savedfilter.*",
        "client.list", "client.details", "client.create", "client.edit", "client.casefile",
        "casefile.*.add", "casefile.*.edit",
        "employer.list", "employer.details", "employer.create", "employer.edit",
        "organisation.list", "organisation.details",
        "grantbid.list", "grantbid.details", "grantbid.create", "grantbid.edit", "grantbid.attachment",
        "grantbid.submit", "grantbid.withdraw",
        # Their own staff time (the row scope keeps it to their own).
        "stafftime.list", "stafftime.details", "stafftime.create", "stafftime.edit", "stafftime.delete",
    ),
    "admin_staff": (
        "caseload.all",
        "client.list", "client.details", "client.create", "client.edit", "client.casefile", "client.export",
        # Admin staff fix the everyday record; risk, safeguarding, disclosures and decisions are not theirs.
        *(f"casefile.{part}.{action}" for part in ("contacts", "employer_contacts", "outcomes", "onward_referrals",
                                                    "benefits_sessions") for action in ("add", "edit")),
        "organisation.*", "employer.*", "staffprofile.*", "savedfilter.*", "stafftime.*",
        "grantbid.list", "grantbid.details", "grantbid.attachment", "grantbid.pay", "grantpot.list", "grantpot.details",
    ),
    "grant_panel": (
        "grants.all", "grantbid.list", "grantbid.queue", "grantbid.details", "grantbid.attachment",
        "grantbid.review", "grantbid.recommend", "grantpot.list", "grantpot.details",
    ),
    "evaluator": ("exportrun.list", "exportrun.details", "exportrun.download"),
    "commissioner": ("dashboard.service", "exportrun.list", "exportrun.details", "exportrun.download"),
}

ROLE_DESCRIPTIONS = {
    "admin": "System administrator: users, roles, keys, retention",
    "manager": "Service manager: every case, assignments, referrals, grants, reports",
    "worker": "Employment specialist: their own caseload",
    "admin_staff": "Admin staff: referrals, partners, employers, staff records",
    "grant_panel": "Grant panel member: reviews business start-up grant bids",
    "evaluator": "University evaluator: pseudonymised data only",
    "commissioner": "OPCC: aggregate figures and scheduled returns",
}


def expand(patterns: tuple[str, ...], known: set[str]) -> list[str]:
    """The known permissions that match any of the patterns."""
    return sorted(p for p in known if any(fnmatch(p, pattern) for pattern in patterns))
