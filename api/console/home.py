"""The home page of each role (首页)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.console.pages import SignedIn, render, router


@router.get("")
async def home(request: Request, principal: SignedIn) -> HTMLResponse:
    """The signed-in reader's home: what their role looks at first."""
    return render(request, "home.html")
