"""The console's tables in words, not in the API's names: every table titled and every column and filter headed in
Chinese and in English (from the downloads' titles and headers, api/downloads), never by a route's slug or a JSON
key."""

from __future__ import annotations

import html as markup
import re
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.world import World, build

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(shared_service: Service) -> tuple[Service, World]:
    return shared_service, build(shared_service)


def page(service: Service, path: str, **params: Any) -> str:
    service.client.cookies.clear()
    response = service.client.get(
        path, params=params, headers={"Cookie": f"jixiao_console={service.tokens['finance']}"}, follow_redirects=False
    )
    assert response.status_code == 200, response.text[:1000]
    return response.text


def headers_of(text: str) -> list[str]:
    """The column headers' texts of the page's table (the sort arrow left out)."""
    head = text.split("<thead>")[1].split("</thead>")[0]
    cells = re.findall(r"<th[^>]*>\s*<a [^>]*>(.*?)</a>", head, re.S)
    return [markup.unescape(cell).rstrip(" ▲▼") for cell in cells]


def test_every_table_is_titled_and_headed_in_either_language(world: tuple[Service, World]) -> None:
    service, _ = world
    listing = {lang: page(service, "/console/tables", lang=lang) for lang in ("zh", "en")}
    slugs = re.findall(r'href="/console/tables/([\w-]+)"', listing["en"])
    assert len(slugs) >= 10
    for lang, text in listing.items():
        for slug, title in re.findall(r'href="/console/tables/([\w-]+)">([^<]*)</a>', text):
            assert title != slug, (lang, slug)
            assert title.isascii() == (lang == "en"), (lang, title)
    for slug in slugs:
        for lang in ("zh", "en"):
            text = page(service, f"/console/tables/{slug}", lang=lang)
            title = re.search(r"<h1>(.*?) <span", text, re.S)
            assert title is not None
            assert title.group(1) != slug
            assert title.group(1).isascii() == (lang == "en"), (slug, lang, title.group(1))
            keys = re.findall(r'title="[^"]*\((\w+)\)"', text.split("<thead>")[1].split("</thead>")[0])
            shown = headers_of(text)
            assert shown, (slug, lang)
            assert len(keys) == len(shown)
            for key, header in zip(keys, shown, strict=True):
                assert header != key, (slug, lang, key)
                assert header.isascii() == (lang == "en"), (slug, lang, header)


def test_every_filter_is_named_in_either_language(world: tuple[Service, World]) -> None:
    service, _ = world
    slugs = re.findall(r'href="/console/tables/([\w-]+)"', page(service, "/console/tables"))
    for slug in slugs:
        for lang in ("zh", "en"):
            text = page(service, f"/console/tables/{slug}", lang=lang)
            form = text.split('class="filters"')[1].split("</form>")[0]
            for name, label in re.findall(r'<label for="f-([\w-]+)">([^<]*)', form):
                label = label.strip()
                assert label, (slug, name)
                assert label != name or name == "q", (slug, lang, name)
                assert label.isascii() == (lang == "en"), (slug, lang, label)
