"""Module-level extensions, bound to the app in ``create_app``."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .core.db import Base

db = SQLAlchemy(model_class=Base)
# The base class of every model. mypy cannot take an instance attribute (db.Model) as a base class, so it is
# told the declarative base that db.Model extends; at run time it is db.Model itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
api = Api()
babel = Babel()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
