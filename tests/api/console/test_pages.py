"""The console's pages over HTTP (TestClient): sign-in, each page's status, refusals, bad parameters, the public
pages' contents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Service

pytestmark = pytest.mark.db

SAME = {"Origin": "http://testserver"}


def sign_in(service: Service, who: str) -> None:
    response = service.client.post(
        "/console/login", data={"token": service.tokens[who], "next": "/console"}, headers=SAME, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console"


def page(service: Service, path: str, **params: Any) -> Any:
    return service.client.get(path, params=params, follow_redirects=False)


def test_sign_in_then_home_then_sign_out(shared_service: Service) -> None:
    service = shared_service
    service.client.cookies.clear()
    assert page(service, "/console").status_code == 303
    sign_in(service, "finance")
    cookie = service.client.cookies.jar
    (kept,) = [c for c in cookie if c.name == "jixiao_console"]
    assert kept.path == "/console"
    home = page(service, "/console")
    assert home.status_code == 200, home.text
    assert "fin-wang" in home.text
    assert '<html lang="zh-CN">' in home.text
    out = service.client.post("/console/logout", headers=SAME, follow_redirects=False)
    assert out.status_code == 303
    assert page(service, "/console").status_code == 303


def test_a_cross_site_sign_in_is_refused(shared_service: Service) -> None:
    service = shared_service
    service.client.cookies.clear()
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"}, {}):
        response = service.client.post(
            "/console/login", data={"token": service.tokens["finance"]}, headers=headers, follow_redirects=False
        )
        assert response.status_code == 403, headers
        assert "cross-site-form" in response.text
        assert "jixiao_console" not in response.headers.get("set-cookie", "")
