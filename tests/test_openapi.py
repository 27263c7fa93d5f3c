"""The OpenAPI document and the docs page are public and work offline."""

from __future__ import annotations

import json

import pytest


def test_openapi_document_is_public_json_with_the_registry_and_bearer_auth(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/organizations",
        "/api/v1/organizations/{organization_id}",
        "/api/v1/mediators",
        "/api/v1/mediators/{mediator_id}",
        "/api/v1/mediators/{mediator_id}/reveal",
        "/api/v1/studios",
        "/api/v1/studios/{studio_id}",
        "/api/v1/auth/token",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []  # the token call itself needs none
    assert set(spec["paths"]["/api/v1/organizations"]) >= {"get", "post"}


def test_docs_page_is_public_and_names_only_local_assets(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html and "<script>" not in html


@pytest.mark.browser
def test_docs_page_renders_swagger_ui_with_no_outside_request(page):
    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/organizations" in p for p in paths)
    page.wait_for_load_state("networkidle")
