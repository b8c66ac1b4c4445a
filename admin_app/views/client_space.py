"""The staff side of the client space, reached from the case file: the message thread with the client (read and
reply), and the client's invitation to the client space."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from admin_app import audit
from admin_app.alerts import note_probe
from admin_app.casework import writes
from admin_app.client_space import service
from admin_app.client_space.languages import LOCALES, code_for
from admin_app.models.case_file import Client
from admin_app.models.client_space import ClientAccount
from admin_app.security import has_permission, register_permission, scoped

PAGE_PERMISSION = "client.casefile"
MESSAGES_PERMISSION = "casefile.messages.add"
INVITE_PERMISSION = "casefile.client_space.add"
#: The minutes a reply counts for unless the worker gives others.
REPLY_MINUTES = 5
MAX_REPLY_MINUTES = 240


class ClientSpaceView(BaseView):
    """Every endpoint needs the case-file page permission and its own; the case file must be in the user's scope."""

    NEEDS = {"index": PAGE_PERMISSION, "thread": MESSAGES_PERMISSION, "reply": MESSAGES_PERMISSION, "invite": INVITE_PERMISSION}

    def __init__(self):
        super().__init__(name="Client space", endpoint="clientspace", url="/admin/client-space")
        register_permission(MESSAGES_PERMISSION, "Case file: read the client's messages and reply to them")
        register_permission(INVITE_PERMISSION, "Case file: invite the client to the client space")

    def is_visible(self):
        return False

    def is_accessible(self):
        return current_user.is_authenticated and has_permission(PAGE_PERMISSION)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        needed = self.NEEDS.get(name)
        if needed is None:
            abort(404)
        if not (has_permission(PAGE_PERMISSION) and has_permission(needed)):
            note_probe("refused", "clients", (kwargs.get("id") or "")[:80], f"refused {request.method} {request.path[:200]}")
            abort(403)
        return None

    def _client(self, id) -> Client:
        client = None
        if writes.object_id(id) is not None:
            client = scoped(Client.objects).filter(pk=id).only(
                "reference", "first_name", "last_name", "worker", "consent", "messages").first()
        if client is None:
            note_probe("not_found", "clients", (id or "")[:80], f"not found: {request.method} {request.path[:200]}")
            abort(404)
        return client

    def _render(self, client, **context):
        account = ClientAccount.objects(client=client.pk).first()
        thread = sorted(client.messages, key=lambda m: m.sent_at)
        return self.render("admin/client_space.html", client=client, account=account, thread=thread,
                           languages=LOCALES, may_reply=has_permission(MESSAGES_PERMISSION),
                           may_invite=has_permission(INVITE_PERMISSION), london=service.london,
                           reply_minutes=REPLY_MINUTES, max_minutes=MAX_REPLY_MINUTES, **context)

    @expose("/")
    def index(self):
        return redirect(url_for("client.index_view"))

    @expose("/<id>/")
    def thread(self, id):
        client = self._client(id)
        audit.record("view", collection="clients", record_id=client.pk,
                     summary=f"messages with the client of {client.reference}")
        return self._render(client, text="", minutes=REPLY_MINUTES, errors={})

    @expose("/<id>/reply", methods=("POST",))
    def reply(self, id):
        client = self._client(id)
        text = (request.form.get("text") or "").strip()
        minutes_given = (request.form.get("minutes") or "").strip()
        errors = {}
        if not text:
            errors["text"] = "Write the reply first."
        elif len(text) > service.MESSAGE_MAX:
            errors["text"] = f"Keep the reply under {service.MESSAGE_MAX} characters; it has {len(text)}."
        if not minutes_given.isdigit() or not 1 <= int(minutes_given) <= MAX_REPLY_MINUTES:
            errors["minutes"] = f"Give the minutes the reply took as a whole number from 1 to {MAX_REPLY_MINUTES}."
        if errors:
            return self._render(client, text=text, minutes=minutes_given, errors=errors), 400
        account = ClientAccount.objects(client=client.pk).first()
        language = (account.language if account and account.language else
                    code_for(client.consent.preferred_language if client.consent else None))
        service.send_message(client.pk, sender="worker", text=text, language=language, staff=current_user._get_current_object(),
                             minutes=int(minutes_given))
        flash("Reply sent. The client sees it in their client space; it is recorded as a message contact.", "success")
        return redirect(url_for(".thread", id=client.pk))

    @expose("/<id>/invite", methods=("POST",))
    def invite(self, id):
        client = self._client(id)
        email = (request.form.get("email") or "").strip()
        try:
            from admin_app.security import sign_in_address

            email = sign_in_address(email)
            account, token = service.invite(client, email, by=current_user.email)
        except ValueError as exc:
            return self._render(client, text="", minutes=REPLY_MINUTES, errors={"email": str(exc)},
                                email=email), 400
        link = url_for("client_space.welcome", token=token, _external=True)
        from jobs.tasks import send_client_invitation

        send_client_invitation.delay(account.user.email, link, account.language or code_for(
            client.consent.preferred_language if client.consent else None))
        audit.record("update", collection="client_accounts", record_id=account.pk,
                     summary=f"{client.reference}: invited to the client space (expires in {service.INVITATION_HOURS} hours)")
        flash(f"Invitation sent to {account.user.email}. It works once, for {service.INVITATION_HOURS} hours.", "success")
        return self._render(client, text="", minutes=REPLY_MINUTES, errors={}, link=link)
