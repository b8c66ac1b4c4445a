"""Extensions, created once and initialised in create_app()."""
from flask_admin import Admin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_security import Security
from flask_wtf import CSRFProtect

security = Security()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
