"""The frame: the app starts, reference data is there, tokens guard the API."""

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.regions.models import Region


def test_reference_regions_loaded(app):
    assert db.session.get(Region, "130600").name == "保定市"
    assert db.session.get(Region, "XIONGAN").member_codes == ["130629", "130632", "130638"]


def test_api_without_token_is_401(client):
    response = client.get("/api/v1/organizations")
    assert response.status_code == 401
    assert response.json["code"] == 401


def test_token_round_trip(api_as, make_org):
    org = make_org(name="朝阳区测试委员会")
    api = api_as(role=Role.registry_admin, region_code="110000")
    response = api.get(f"/api/v1/organizations/{org.id}")
    assert response.status_code == 200
    assert response.json["name"] == "朝阳区测试委员会"
