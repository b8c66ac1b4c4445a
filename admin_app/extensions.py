"""Extensions, created once and initialised in create_app()."""
from flask_security import PasswordUtil, Security
from flask_security.totp import Totp
from flask_wtf import CSRFProtect
from mongoengine import Q
from passlib.exc import UsedTokenError

from admin_app.account_mail import ServiceMail


class OneUseTotp(Totp):
    """Flask-Security's TOTP, with each code accepted once: the last accepted time step is kept on the user and
    claimed by a conditional update, so a code seen over someone's shoulder (or sent twice at once) is refused."""

    # user.__class__, not type(user): in the set-up flow the user is the current_user proxy.
    def get_last_counter(self, user) -> int | None:
        return user.__class__.objects(pk=user.pk).scalar("tf_totp_last_counter").first()

    def set_last_counter(self, user, tmatch) -> None:
        newer = Q(tf_totp_last_counter=None) | Q(tf_totp_last_counter__lt=tmatch.counter)
        if not user.__class__.objects(Q(pk=user.pk) & newer).update_one(set__tf_totp_last_counter=tmatch.counter):
            raise UsedTokenError()


class PasswordPolicy(PasswordUtil):
    """Flask-Security's password checks, given the account's own email and name as words a password must not be
    built from (its own hook reads them from the object's __dict__, where a mongoengine document keeps none)."""

    def validate(self, password, is_register, **kwargs):
        user = None if is_register else kwargs.get("user")
        if user is not None:
            return super().validate(password, True, email=user.email or "", name=user.name or "")
        return super().validate(password, is_register, **kwargs)


security = Security(totp_cls=OneUseTotp, password_util_cls=PasswordPolicy, mail_util_cls=ServiceMail)
csrf = CSRFProtect()
