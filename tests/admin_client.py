"""A staff member's browser for the admin web, over real HTTP (httpx against uvicorn)."""

from __future__ import annotations

import re
from typing import Any

import httpx

HIDDEN = re.compile(r'name="(csrf|token)" value="([^"]+)"')


class AdminBrowser:
    """Keeps cookies like a browser and finds the form tokens on each page."""

    def __init__(self, base_url: str, address: str | None = None) -> None:
        """`address`: the loopback address to connect from (127.0.0.2, ...), another computer
        as the server sees it."""
        transport = httpx.AsyncHTTPTransport(local_address=address) if address else None
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=20, follow_redirects=False, transport=transport
        )
        self.csrf = ""

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    def _remember(self, response: httpx.Response) -> httpx.Response:
        for name, value in HIDDEN.findall(response.text if response.content else ""):
            if name == "csrf":
                self.csrf = value
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page and remember its CSRF token."""
        return self._remember(await self.client.get(path, **kwargs))

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """POST a form with this session's CSRF token (unless `csrf` is False)."""
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        return self._remember(await self.client.post(path, data=form, **kwargs))

    async def login(self, email: str, password: str) -> httpx.Response:
        """Open the login form and send it; the response of the POST."""
        page = await self.client.get("/admin/login")
        token = dict(HIDDEN.findall(page.text))["token"]
        response = await self.client.post(
            "/admin/login", data={"token": token, "email": email, "password": password}
        )
        if response.status_code == 303:
            await self.get("/admin/")
        return response
