"""Demo data for data protection."""


def seed_demo(today, domain: str) -> dict:
    """Demo data for data protection, so each role sees it on first sign-in: an anonymised case file, one under
    legal hold, an outside address on the OPCC return's allow-list."""
    from admin_app.models.case_file import Client
    from admin_app.models.sharing import AllowedRecipient
    from admin_app.privacy.anonymise import CannotAnonymise, anonymise
    from admin_app.privacy.retention import set_legal_hold

    closed = list(Client.objects(status="closed", anonymised_on=None).only("reference").order_by("reference")[:2])
    counts = {"anonymised": 0, "legal_holds": 0}
    if len(closed) == 2:
        try:
            anonymise(closed[0].reference, "demo: erasure request received", f"manager@{domain}", today)
            counts["anonymised"] = 1
        except CannotAnonymise:
            pass
        set_legal_hold(closed[1].reference, "demo: claim against the service, solicitor's letter", f"manager@{domain}")
        counts["legal_holds"] = 1
    if not AllowedRecipient.objects(report="opcc_return").count():
        AllowedRecipient(report="opcc_return", email="returns@opcc.example.gov.uk", added_by=f"admin@{domain}",
                         reason="demo: OPCC grant agreement, schedule 3 (quarterly returns)").save()
    return counts
