"""``bptui serve``: textual-serve, refusing every request that does not come from its own page.

textual-serve alone accepts a websocket from any page in the browser, and each websocket
runs the app, which opens and saves files as this user: a page of another site could
drive it (cross-site websocket hijacking), however the server listens on 127.0.0.1.
So every request, the page, its websocket, its scripts and downloads, must

- carry a secret token, made at start and printed in the URL to open (as Jupyter does):
  in the query (``?token=...``), or in the cookie the page request with that query sets
  (the page's own script builds the websocket URL from a fixed path and appends its own
  query, so the token travels to the websocket in the cookie, which is HttpOnly and
  SameSite=Strict: a page of another site never sends it);
- and, when it has an Origin (a browser always sends one with a websocket), come from
  the address served: other ports of this host are other origins, though the browser
  counts them as the same site and sends them the cookie.

A refused request gets 403 before textual-serve sees it, so it never starts an app.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from urllib.parse import quote

from aiohttp import web
from textual_serve.server import Server

from bptui.core.errors import printable

log = logging.getLogger("bptui.serve")

# Not the page's framing: a page of another port of this host is the same site, gets the
# cookie sent with its frames, and could overlay the app (clickjacking). Nor the token in
# a Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def origin_of(host: str, port: int) -> str:
    """The Origin a browser sends from a page at ``http://HOST:PORT``, as it writes it."""
    try:
        address = ipaddress.ip_address(host)
        name = f"[{address.compressed}]" if address.version == 6 else address.compressed
    except ValueError:
        name = host.lower()
    return f"http://{name}" if port == 80 else f"http://{name}:{port}"


class GuardedServer(Server):
    """textual-serve's Server, its every request checked for the token and the Origin first."""

    def __init__(self, command: str, *, host: str, port: int, title: str, token: str):
        self.origin = origin_of(host, port)
        # textual-serve's own public URL has no brackets around an IPv6 address; the page's
        # websocket URL is built from it.
        super().__init__(command, host=host, port=port, title=title, public_url=self.origin)
        self.token = token
        self.cookie = f"bptui-serve-{port}"  # cookies are shared by every port of a host
        self.url = f"{self.origin}/?token={quote(token)}"

    def refusal(self, request: web.BaseRequest) -> str | None:
        """Why the request is refused, or None."""
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() != self.origin:
            return f"it comes from a page of another site ({origin!r}, not {self.origin})"
        supplied = request.query.get("token") if "token" in request.query else request.cookies.get(self.cookie)
        if supplied is None:
            return "it has no token: open the URL bptui serve printed, with its ?token="
        if not hmac.compare_digest(supplied.encode(), self.token.encode()):
            return "its token is wrong: open the URL bptui serve printed, with its ?token="
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler) -> web.StreamResponse:
        reason = self.refusal(request)
        if reason is not None:
            log.warning("refused %s %r: %s", request.method, request.path, reason)
            raise web.HTTPForbidden(text=f"bptui serve: refused: {reason}\n", headers=PAGE_HEADERS)
        response = await handler(request)
        if not response.prepared:  # a websocket or a download has sent its headers already
            response.headers.update(PAGE_HEADERS)
            if "token" in request.query:
                response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    def initialize_logging(self) -> None:
        super().initialize_logging()
        # aiohttp's access log prints each request line, the token in its query with it.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        # Instead of textual-serve's "Serving ... on http://HOST:PORT", which has no token.
        # markup=False: an IPv6 address's brackets are not rich markup; soft_wrap: the URL
        # stays on one line, to be copied or clicked.
        self.console.print(f"Serving {printable(self.title)} on {self.url}", markup=False, highlight=False,
                           soft_wrap=True)
        self.console.print("Open this URL: without its token the server refuses the page and the app.",
                           markup=False, highlight=False, soft_wrap=True)
        self.console.print("Press Ctrl+C to quit", markup=False, highlight=False)


def serve(command: str, *, host: str, port: int, title: str) -> None:
    """Run the server until Ctrl+C or SIGTERM; one app process per browser tab runs ``command``."""
    GuardedServer(command, host=host, port=port, title=title, token=new_token()).serve()
