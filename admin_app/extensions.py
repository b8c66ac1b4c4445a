"""Extensions, created once and initialised in create_app()."""
from flask_security import Security
from flask_wtf import CSRFProtect

security = Security()
csrf = CSRFProtect()
