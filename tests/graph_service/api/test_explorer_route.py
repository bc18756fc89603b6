"""The explorer page and its assets are served by the API app, without a key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from graph_service.explorer import STATIC_DIR


def test_page_and_assets_are_served_without_a_key(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "./assets/explorer.js" in page.text
    for name in ("explorer.js", "style.css"):
        asset = client.get(f"/assets/{name}")
        assert asset.status_code == 200
        assert asset.content == (STATIC_DIR / "assets" / name).read_bytes()
    assert client.get("/assets/style.css").headers["content-type"].startswith("text/css")


def test_unknown_or_escaping_assets_are_404(client: TestClient) -> None:
    for name in ("nope.js", "..%2Findex.html", ".hidden"):
        r = client.get(f"/assets/{name}")
        assert r.status_code == 404, name
    assert "/" not in client.get("/openapi.json").json()["paths"]
