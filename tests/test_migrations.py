"""The one Alembic chain upgrades an empty database to exactly the schema the models describe."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from mediation_hub import create_app
from mediation_hub.extensions import db

from .conftest import PG_URL, TEST_KEYS


def _empty_database_url(tmp_path) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    base = sa.engine.make_url(PG_URL)
    name = f"{base.database}_migrations"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.mark.real_commits
def test_upgrade_from_empty_matches_models(tmp_path):
    url = _empty_database_url(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **TEST_KEYS})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
