"""The public pages (公开信息): no token needed, and read as the public even by a signed-in reader, so they show
exactly what the API shows the public — disclosed goals and results, the public blacklist, the latest signed
checkpoint — and never a field that was not disclosed."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.console.pages import Viewer, error_page, forward, lang_of, passthrough, render, router
from api.console.strings import translate
from api.console.tables import table_page, tables

# The public tables: the page's slug -> the API route's table (api.console.tables), the page's title key, and the
# route's filters the public may not use (the API refuses them: 403 role-not-allowed), left out of the form.
PUBLIC_TABLES = {
    "projects": ("projects", "public_projects", ("stage", "deviation", "overdue")),
    "disclosures": ("disclosures", "public_disclosures", ("owed", "late", "overdue")),
    "blacklist": ("blacklist", "public_blacklist", ()),
}


async def checkpoint(request: Request) -> dict[str, Any] | None:
    """The latest signed checkpoint with its witnesses and the verifier key, as the public reads them (None before
    the first is signed)."""
    status, body = await forward(request, "/log/checkpoint", public=True)
    if status != 200:
        return None
    found: dict[str, Any] = json.loads(body)
    status, key = await forward(request, "/log/key", public=True)
    found["verifier_key"] = json.loads(key)["verifier_key"] if status == 200 else None
    return found


@router.get("/public")
async def public_home(request: Request, reader: Viewer) -> HTMLResponse:
    """What anyone may read: disclosed goals and results, the blacklist, the latest signed checkpoint."""
    return render(request, "public.html", checkpoint=await checkpoint(request), pages=PUBLIC_TABLES)


@router.get("/public/api/{path:path}")
async def public_api(request: Request, path: str) -> Response:
    """The API's GET routes as the public reads them (the public tables' downloads)."""
    return passthrough(request, path, public=True)


@router.get("/public/{slug}")
async def public_table(request: Request, slug: str, reader: Viewer) -> Response:
    """A public table: the route's rows as the public reads them."""
    if slug not in PUBLIC_TABLES:
        return error_page(request, "not-found", translate(lang_of(request), "page_not_found"))
    table_slug, title, withheld = PUBLIC_TABLES[slug]
    return await table_page(
        request, tables(request)[table_slug], template="public_table.html", public=True, withheld=withheld, title=title
    )
