"""The console (管理台): server-rendered pages at ``/console`` for every role with a token, and a public part.

:mod:`.pages` holds the router and the frame (sign-in, language, rendering, errors); each page module adds its
routes to that router when imported here. The catch-all 404 is added last (:func:`.pages.finish`).
"""

from api.console import home, pages, project, public, tables
from api.console.pages import router

pages.finish()

__all__ = ["home", "pages", "project", "public", "router", "tables"]
