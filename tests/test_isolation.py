"""Each test's writes are rolled back, even those a view committed."""

import pytest

from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization


@pytest.mark.parametrize("attempt", [1, 2])
def test_committed_rows_do_not_leak_between_tests(make_org, attempt):
    assert db.session.query(Organization).filter_by(name="泄漏检查").count() == 0
    make_org(name="泄漏检查")
    db.session.commit()
    assert db.session.query(Organization).filter_by(name="泄漏检查").count() == 1
