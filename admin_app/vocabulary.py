"""Choice lists of the domain, declared once; forms, filters, exports and the data dictionary read them."""
from __future__ import annotations

ROLES = (
    ("admin", "System administrator"),
    ("manager", "Service manager"),
    ("worker", "Employment specialist"),
    ("admin_staff", "Admin staff"),
    ("grant_panel", "Grant panel member"),
    ("evaluator", "Evaluator"),
    ("commissioner", "Commissioner's office (OPCC)"),
)

REFERRAL_SOURCES = (
    ("yos", "Youth Offending Service"),
    ("childrens_trust", "Children's Trust"),
    ("police", "West Midlands Police"),
    ("fe_college", "FE college"),
    ("school", "School"),
    ("community_group", "Community group"),
    ("crc", "CRC"),
    ("probation", "Probation"),
    ("prison", "Prison"),
    ("self", "Self-referral"),
)

COHORTS = (("at_risk", "At risk"), ("convicted", "Convicted"))

REFERRAL_DECISIONS = (
    ("pending", "Awaiting decision"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("withdrawn", "Withdrawn"),
)

REJECTION_REASONS = (
    ("risk_unacceptable", "Risk unacceptable"),
    ("caseload_at_capacity", "Caseload at capacity"),
    ("ineligible", "Ineligible"),
    ("declined_support", "Declined support"),
    ("other", "Other"),
)

CASE_STATUSES = (
    ("referred", "Referred"),
    ("assessed", "Assessed"),
    ("active", "Active"),
    ("in_work", "In work"),
    ("in_business", "In business"),
    ("closed", "Closed"),
)

READINESS = (("low", "Low"), ("medium", "Medium"), ("high", "High"))

GOALS = (("employment", "Employment"), ("self_employment", "Self-employment"), ("both", "Both"))

EMPLOYMENT_STATUS_AT_REFERRAL = (
    ("unemployed", "Unemployed"),
    ("inactive", "Economically inactive"),
    ("employed_needing_support", "Employed, needs support to keep the job"),
)

PLAN_GOAL_STATUSES = (("open", "Open"), ("achieved", "Achieved"), ("dropped", "Dropped"))

#: Staff time that belongs to no single client, reported in hours apart from client contact time.
STAFF_TIME_KINDS = (
    ("job_development", "General job development (employer engagement)"),
    ("partner_meeting", "Partner meeting"),
    ("travel", "Travel"),
    ("training", "Training"),
    ("supervision", "Supervision and team meetings"),
    ("admin", "General admin"),
    ("other", "Other"),
)

CONTACT_MODES = (
    ("face_to_face", "Face-to-face"),
    ("phone", "Phone"),
    ("video", "Video"),
    ("message", "Message"),
    ("admin", "Admin"),
)

MESSAGE_SENDERS = (("client", "Client"), ("worker", "Worker"))
OPPORTUNITY_KINDS = (("job", "Job"), ("training", "Training or course"), ("volunteering", "Volunteering"))

CONTACT_PLACES = (
    ("community", "Community"),
    ("office", "Office"),
    ("custody", "Custody"),
    ("online", "Online"),
)

EMPLOYER_CONTACT_PURPOSES = (
    ("informational_interview", "Informational interview"),
    ("job_development", "Job development"),
    ("placement_support", "Placement support"),
)

RISK_ASSESSMENT_KINDS = (("venue", "Venue"), ("individual", "Individual"), ("group", "Group"))

RISK_LEVELS = (("low", "Low"), ("medium", "Medium"), ("high", "High"))

DISCLOSURE_BASES = (
    ("threat_to_life", "Serious, credible and imminent threat to life"),
    ("public_disorder", "Risk of public disorder"),
    ("safety_of_others", "Safety of others"),
)

OUTCOME_KINDS = (
    ("paid_employment", "Paid employment"),
    ("self_employment", "Self-employment / business start"),
    ("education", "Education"),
    ("training", "Training"),
    ("volunteering", "Volunteering"),
)
PAID_OUTCOME_KINDS = ("paid_employment", "self_employment")

ORGANISATION_KINDS = (
    ("referral_partner", "Referral partner"),
    ("signposting_partner", "Signposting partner"),
    ("both", "Referral and signposting partner"),
)

GRANT_BID_STATUSES = (
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("panel_review", "Panel review"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("paid", "Paid"),
    ("closed", "Closed"),
    ("withdrawn", "Withdrawn"),
)

GRANT_BID_ACTIONS = (
    ("create", "Drafted"),
    ("edit", "Draft changed"),
    ("submit", "Submitted to the panel"),
    ("review", "Taken into panel review"),
    ("recommend", "Panel recommendation"),
    ("approve", "Approved"),
    ("reject", "Rejected"),
    ("pay", "Payment recorded"),
    ("withdraw", "Withdrawn"),
    ("close", "Closed"),
)

GRANT_RECOMMENDATIONS = (
    ("approve", "Approve the amount asked"),
    ("approve_reduced", "Approve a smaller amount"),
    ("reject", "Reject"),
)

LANGUAGES = ("English", "Urdu", "Punjabi", "Bengali", "Somali", "Arabic", "Polish", "Romanian", "Kurdish", "Pashto")


def label(choices, value) -> str:
    """The label of a value in a choice list, or the value itself."""
    return dict(choices).get(value, value or "")
