"""Risk and safety: instant alerts, venues, groups and affiliations, visits checked before they happen, lone working.

rules.py holds the pure rules (what counts as new high-risk information, the visit check, when a check-out
is overdue); alerts.py raises alerts and emails them once; visits.py gathers what the visit check needs.
"""
