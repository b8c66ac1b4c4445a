"""Extensions, created once and initialised in create_app()."""
from flask_security import Security
from flask_security.totp import Totp
from flask_wtf import CSRFProtect
from mongoengine import Q
from passlib.exc import UsedTokenError


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


security = Security(totp_cls=OneUseTotp)
csrf = CSRFProtect()
