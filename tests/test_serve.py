"""``bptui serve``: the app in a web browser, through textual-serve (an optional extra).

The browser test starts ``bptui serve xor`` on a free loopback port, loads the page in
headless Chromium and checks that the app's first screen arrives: the browser receives
it over the page's websocket, and the terminal on the page paints it. It skips, saying
why, where textual-serve or Chromium is missing (.ci/run installs Chromium with apt-get).

Why not ``chromium --dump-dom``: textual-serve's terminal (xterm.js) draws on a canvas,
with its canvas or WebGL renderer, so the app's text is never in the DOM; and under
``--virtual-time-budget`` the page's clock runs ahead of the real app, so the dump is
taken before the first byte arrives. The test drives Chromium through the DevTools
protocol instead, with aiohttp's websocket client (aiohttp comes with textual-serve):
it reads the frames the page receives, and counts the pixels the terminal painted.

The server refuses (403) every request without the token it prints in its URL, or with
an Origin other than its own address: the page, its websocket, its files (bptui/serve.py).
The tests send both from aiohttp, and in Chromium a page on another port of 127.0.0.1,
which the browser counts as the same site and sends the token's cookie, cannot open the
app's websocket.
Nothing leaves this machine: the server and Chromium listen on 127.0.0.1 only, and
Chromium resolves no other host (the page asks fonts.googleapis.com for a font).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bptui.cli import SERVE_EXTRA, main

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
# Deadlines, not waits (each returns as soon as its condition holds): generous, for a
# loaded machine, where starting Python, the app and Chromium takes many times longer.
START_TIMEOUT = 60  # seconds for the server to listen
SCREEN_TIMEOUT = 60  # seconds for the app's first screen to reach the browser
FIRST_SCREEN = ("XOR", "epoch 0")  # on the status line of the xor scenario's first screen
PAINTED = 1000  # bright pixels on the terminal's canvas: a few dozen characters of text

# Run in the page: has the app's output arrived (the page's script marks <body> with
# -first-byte), and how many bright pixels (text) has the terminal painted? The terminal
# is a stack of canvases; drawn onto one 2D canvas, they can be read whatever renderer
# xterm.js chose (its WebGL canvas keeps its drawing buffer).
PAINT_CHECK = """(() => {
  const layers = [...document.querySelectorAll('.xterm-screen canvas')];
  const width = Math.max(0, ...layers.map(c => c.width));
  const height = Math.max(0, ...layers.map(c => c.height));
  let bright = 0;
  if (width && height) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    for (const layer of layers) context.drawImage(layer, 0, 0);
    const pixels = context.getImageData(0, 0, width, height).data;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] > 450) bright++;
  }
  return JSON.stringify({first_byte: document.body.classList.contains('-first-byte'), bright});
})()"""

# What the server prints: the URL to open, its token in the query.
PRINTED_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
FOREIGN = ("http://evil.example", "null")  # another site; a sandboxed frame or a file: page

ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 20) -> str:
    """The end of a log, without Chromium's complaints that there is no D-Bus in a container."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join([line for line in text.splitlines() if "dbus" not in line][-lines:])


def _end_group(process: subprocess.Popen) -> None:
    """End a process started in a session of its own, and every process it started.

    textual-serve runs one app process per browser tab, in the server's process group;
    one whose server goes away mid-session can outlive it, so the whole group goes.
    """
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


def _text(received: bytes) -> str:
    """What the app wrote, without its terminal escape sequences."""
    return ESCAPES.sub("", received.decode("utf-8", "replace"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``bptui serve xor`` on a free loopback port, once it listens and has printed its URL.

    Its url (with the token), base (without), origin, port, token, cookie (as the page
    sets it) and log. Killed afterwards, whatever happens.
    """
    pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install '.[serve]')")
    if not hasattr(os, "killpg"):
        pytest.skip("needs POSIX process groups to stop the server and its apps")
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the server and its apps run this working tree
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "bptui", "serve", "xor", "--port", str(port)],
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"bptui serve exited with {server.returncode}:\n{_tail(log)}")
            printed = PRINTED_URL.search(log.read_text(errors="replace"))
            try:
                socket.create_connection((LOOPBACK, port), timeout=0.5).close()
                if printed:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"bptui serve did not listen on port {port} and print its URL "
                            f"within {START_TIMEOUT} s:\n{_tail(log)}")
            time.sleep(0.1)
        assert int(printed[1]) == port
        token = printed[2]
        yield types.SimpleNamespace(url=printed[0], base=f"http://{LOOPBACK}:{port}/",
                                    origin=f"http://{LOOPBACK}:{port}", port=port, token=token,
                                    cookie=f"bptui-serve-{port}={token}", log=log)
    finally:
        _end_group(server)


def _get(url: str, **headers) -> tuple[int, dict, str]:
    """Status, headers and body of a GET, a refusal included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def test_the_printed_url_is_the_only_one_and_has_a_secret_token(served):
    assert _get(served.url)[0] == 200
    assert _get(served.base + "?after")[0] == 403  # logged, after the request line of the one before, if any
    printed = served.log.read_text(errors="replace")
    assert f"Serving bptui xor on {served.url}\n" in printed
    # textual-serve's own line, the address without the token, is not printed: it would be refused.
    assert [line for line in printed.splitlines() if line.startswith("Serving")] == [f"Serving bptui xor on {served.url}"]
    assert printed.count(served.token) == 1  # nor the request lines, with the token in their query
    assert "refused GET '/'" in printed


def test_the_page_is_textual_serves_bound_to_loopback(served):
    status, headers, page = _get(served.url)
    assert status == 200
    assert 'class="textual-terminal"' in page and "js/textual.js" in page
    # The page's terminal connects back to the address the server is bound to: 127.0.0.1 by default.
    # Its websocket URL has no token: textual.js appends its own query to it. The cookie takes the token there.
    assert f'data-session-websocket-url="ws://{served.base.removeprefix("http://")}ws"' in page
    assert "bptui xor" in page  # the title
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(served.cookie + ";") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    # The page's files and the cookie instead of the query, as the page's own requests have them.
    assert _get(served.base + "static/js/textual.js", Cookie=served.cookie)[0] == 200
    assert _get(served.base, Cookie=served.cookie, Origin=served.origin)[0] == 200


def test_the_page_without_the_token_is_refused(served):
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    for url, headers, why in [
        (served.base, {}, "no token"),
        (served.base + "?token=", {}, "token is wrong"),
        (served.base + f"?token={wrong}", {}, "token is wrong"),
        (served.base, {"Cookie": f"bptui-serve-{served.port}={wrong}"}, "token is wrong"),
        (served.base, {"Cookie": f"bptui-serve-{served.port + 1}={served.token}"}, "no token"),  # another server's
        (served.base + f"?token={wrong}", {"Cookie": served.cookie}, "token is wrong"),  # the query's is the one
        (served.base + "static/js/textual.js", {}, "no token"),
        (served.base + "download/anything", {}, "no token"),
        (served.base + "no-such-page", {}, "no token"),
    ]:
        status, response_headers, body = _get(url, **headers)
        assert (status, why) == (403, why) and why in body, (url, headers, body)
        assert "Set-Cookie" not in response_headers


def test_the_page_from_another_site_is_refused(served):
    for origin in FOREIGN + (f"http://{LOOPBACK}:{served.port + 1}", f"https://{LOOPBACK}:{served.port}",
                             f"http://localhost:{served.port}"):
        status, headers, body = _get(served.url, Origin=origin)
        assert status == 403 and "another site" in body, origin
        assert "Set-Cookie" not in headers


async def _handshake(served, query: str = "", **headers) -> int:
    """The status of a websocket handshake: 101 when the server accepts it."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(served.base.replace("http:", "ws:") + "ws?width=80&height=24" + query,
                                          headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as e:
            return e.status


def test_the_websocket_from_another_site_is_refused(served):
    """A page of another site opens the websocket as the browser would, with the cookie: 403, no app."""
    for origin in FOREIGN + (f"http://{LOOPBACK}:{served.port + 1}",):
        for query, cookie in (("", served.cookie), (f"&token={served.token}", "")):
            headers = {"Origin": origin} | ({"Cookie": cookie} if cookie else {})
            assert asyncio.run(asyncio.wait_for(_handshake(served, query, **headers), SCREEN_TIMEOUT)) == 403, origin


def test_the_websocket_without_the_token_is_refused(served):
    wrong = served.token[::-1]
    for query, headers in [("", {}), ("", {"Origin": served.origin}), (f"&token={wrong}", {"Origin": served.origin}),
                           ("", {"Origin": served.origin, "Cookie": f"bptui-serve-{served.port}={wrong}"})]:
        status = asyncio.run(asyncio.wait_for(_handshake(served, query, **headers), SCREEN_TIMEOUT))
        assert status == 403, (query, headers)


def test_the_websocket_sends_the_first_screen(served):
    """Without a browser: what textual-serve sends a page that connects (runs where Chromium is absent).

    As the page's websocket has them: its Origin, and the token in the cookie the page set.
    """
    import aiohttp

    async def first_screen() -> str:
        received = b""
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(served.base.replace("http:", "ws:") + "ws?width=100&height=30",
                                          origin=served.origin, headers={"Cookie": served.cookie}) as ws:
                await ws.send_json(["resize", {"width": 100, "height": 30}])
                while not all(s in _text(received) for s in FIRST_SCREEN):
                    message = await ws.receive()
                    if message.type == aiohttp.WSMsgType.BINARY:
                        received += message.data
                    elif message.type != aiohttp.WSMsgType.TEXT:
                        raise AssertionError(f"the websocket closed: {message}; received {_text(received)!r}")
        return _text(received)

    assert all(s in asyncio.run(asyncio.wait_for(first_screen(), SCREEN_TIMEOUT)) for s in FIRST_SCREEN)


class _DevTools:
    """The Chrome DevTools protocol over a websocket: calls, and the events between them."""

    def __init__(self, ws):
        self.ws = ws
        self.last_id = 0
        self.events: list[dict] = []

    async def call(self, method: str, **params) -> dict:
        self.last_id += 1
        await self.ws.send_json({"id": self.last_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == self.last_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            self.events.append(message)

    async def event(self) -> dict:
        return self.events.pop(0) if self.events else await self.ws.receive_json()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "/usr/bin/chromium"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium, resolving no host but 127.0.0.1: the port of its DevTools server, and its log."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (on Debian: apt-get install chromium; .ci/run does it)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    log = profile.parent / "chromium.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", "--window-size=1024,768",
             f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",  # no host but this one
             f"--remote-debugging-address={LOOPBACK}", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it chose here
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start its DevTools server:\n{_tail(log)}")
            time.sleep(0.1)
        yield types.SimpleNamespace(devtools=int(port_file.read_text().split()[0]), log=log)
    finally:
        _end_group(process)


async def _in_a_tab(browser, work) -> None:
    """``await work(cdp)`` with the DevTools protocol of Chromium's tab, its network events on."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{LOOPBACK}:{browser.devtools}/json/list") as response:
            page = next(t for t in await response.json() if t["type"] == "page")
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = _DevTools(ws)
            await cdp.call("Network.enable")
            await work(cdp)


async def _evaluate(cdp: _DevTools, expression: str):
    result = await cdp.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
    return result["result"].get("value")


async def _open(cdp: _DevTools, url: str) -> None:
    """Navigate the tab to url and wait until the page there has loaded."""
    await cdp.call("Page.navigate", url=url)
    check = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
    while not await _evaluate(cdp, check):
        await asyncio.sleep(0.1)


def test_the_first_screen_arrives_in_headless_chromium(served, browser):
    """The printed URL, as the user opens it: the page's websocket carries the token in the page's cookie."""
    seen = {"received": b"", "painted": None}

    async def browse(cdp: _DevTools) -> None:
        await cdp.call("Page.navigate", url=served.url)
        # The app's first screen, as the page's websocket receives it...
        while not all(s in _text(seen["received"]) for s in FIRST_SCREEN):
            event = await cdp.event()
            if event.get("method") == "Network.webSocketFrameReceived":
                frame = event["params"]["response"]
                data = frame["payloadData"]
                seen["received"] += base64.b64decode(data) if frame["opcode"] == 2 else data.encode()
        # ...and as the terminal on the page paints it.
        while True:
            seen["painted"] = json.loads(await _evaluate(cdp, PAINT_CHECK))
            if seen["painted"]["first_byte"] and seen["painted"]["bright"] >= PAINTED:
                return
            await asyncio.sleep(0.2)

    try:
        asyncio.run(asyncio.wait_for(_in_a_tab(browser, browse), SCREEN_TIMEOUT))
    except TimeoutError:
        pytest.fail(f"the first screen did not arrive within {SCREEN_TIMEOUT} s: the page received "
                    f"{_text(seen['received'])[-500:]!r}; the terminal: {seen['painted']}\n{_tail(browser.log)}")


# In a page: open a websocket to the URL, and say whether the server accepted it.
PROBE = """new Promise(resolve => {
  const socket = new WebSocket(%s);
  socket.onopen = () => { socket.close(); resolve('open'); };
  socket.onerror = () => resolve('refused');
})"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_page_of_another_site_cannot_open_the_apps_websocket_in_chromium(served, browser, tmp_path):
    """Cross-site websocket hijacking, tried for real: another port of 127.0.0.1 is the same site to
    the browser, which sends it the token's cookie; only the Origin check refuses it."""
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>another site</title>")
    other = ThreadingHTTPServer((LOOPBACK, 0), lambda *a: _Quiet(*a, directory=str(tmp_path)))
    threading.Thread(target=other.serve_forever, daemon=True).start()
    socket_url = served.base.replace("http:", "ws:") + "ws?width=80&height=24"
    outcomes = {}

    async def attack(cdp: _DevTools) -> None:
        await _open(cdp, served.url)  # the user's own tab: the browser now holds the cookie
        outcomes["the app's own page"] = await _evaluate(cdp, PROBE % json.dumps(socket_url))
        await _open(cdp, f"http://{LOOPBACK}:{other.server_address[1]}/")
        outcomes["another site's page"] = await _evaluate(cdp, PROBE % json.dumps(socket_url))

    try:
        asyncio.run(asyncio.wait_for(_in_a_tab(browser, attack), SCREEN_TIMEOUT))
    except TimeoutError:
        pytest.fail(f"the pages did not load within {SCREEN_TIMEOUT} s: {outcomes}\n{_tail(browser.log)}")
    finally:
        other.shutdown()
        other.server_close()
    assert outcomes == {"the app's own page": "open", "another site's page": "refused"}
    assert f"refused GET '/ws': it comes from a page of another site ('http://{LOOPBACK}:{other.server_address[1]}'" \
        in " ".join(served.log.read_text(errors="replace").split())


# Without a server: the command line around it.

@pytest.fixture
def fake_server(monkeypatch):
    """bptui.serve replaced by a module whose serve() records what it was given and returns at once.

    It runs where textual-serve is not installed: the real bptui.serve imports it.
    """
    made = []

    def serve(command, *, host, port, title):
        made.append({"command": command, "host": host, "port": port, "title": title})

    module = types.ModuleType("bptui.serve")
    module.serve = serve
    monkeypatch.setitem(sys.modules, "bptui.serve", module)
    return made


def test_without_the_extra_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    monkeypatch.delitem(sys.modules, "bptui.serve", raising=False)  # imported afresh, as in a new process
    assert main(["serve", "xor"]) == 2
    captured = capsys.readouterr()
    assert captured.err == SERVE_EXTRA + "\n" and captured.out == ""
    assert SERVE_EXTRA.startswith("bptui: serve needs the optional extra: pip install ")


def test_a_bad_path_exits_2_before_starting(fake_server, capsys):
    assert main(["serve", "no-such-scenario.toml"]) == 2
    assert capsys.readouterr().err.startswith("bptui: no-such-scenario.toml: no such file")
    assert fake_server == []


def test_the_served_command_and_the_default_address(fake_server, capsys):
    port = _free_port()
    assert main(["serve", "xor", "--port", str(port)]) == 0
    assert main(["serve", "--port", str(port)]) == 0
    assert capsys.readouterr().err == ""
    python = shlex.quote(sys.executable)
    assert fake_server == [
        {"command": f"{python} -m bptui xor", "host": LOOPBACK, "port": port, "title": "bptui xor"},
        {"command": f"{python} -m bptui", "host": LOOPBACK, "port": port, "title": "bptui"},  # the gallery
    ]


def test_a_host_that_is_not_loopback_is_warned_about(fake_server, monkeypatch, capsys):
    monkeypatch.setattr("bptui.cli._check_listen", lambda host, port: None)  # never really bound
    assert main(["serve", "xor", "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("bptui: serve: warning: listening on 0.0.0.0") and err.count("\n") == 1
    assert "unencrypted (http)" in err and "whoever has the token" in err
    for host in ("localhost", "127.0.0.1", "127.0.0.2", "::1"):
        assert main(["serve", "xor", "--host", host]) == 0
        assert capsys.readouterr().err == ""


def test_a_port_in_use_exits_2_before_starting(fake_server, capsys):
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "xor", "--port", str(port)]) == 2
    assert capsys.readouterr().err == (f"bptui: serve: cannot listen on {LOOPBACK} port {port}: "
                                       f"the port is in use (choose another with --port)\n")
    assert fake_server == []


def test_bad_ports_are_refused(capsys):
    for port in ("0", "65536", "http"):
        assert main(["serve", "--port", port]) == 2
        err = capsys.readouterr().err
        assert err.startswith("bptui: serve: argument --port: ") and err.count("\n") == 1


def test_the_origin_is_written_as_a_browser_writes_it():
    pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install '.[serve]')")
    from bptui.serve import GuardedServer, origin_of

    assert origin_of("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert origin_of("LocalHost", 8000) == "http://localhost:8000"
    assert origin_of("0:0::1", 8001) == "http://[::1]:8001"  # brackets, and the shortest form
    assert origin_of("192.0.2.7", 80) == "http://192.0.2.7"  # the default port is left out
    server = GuardedServer("true", host="::1", port=8002, title="t", token="secret-_")
    # The page's websocket URL is built from the public URL: textual-serve's own has no brackets.
    assert server.public_url == "http://[::1]:8002" and server.url == "http://[::1]:8002/?token=secret-_"
