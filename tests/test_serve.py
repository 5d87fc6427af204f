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
import time
import types
import urllib.request
from pathlib import Path

import pytest

from bptui.cli import SERVE_EXTRA, main

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 20  # seconds for the server to listen
SCREEN_TIMEOUT = 20  # seconds for the app's first screen to reach the browser
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
    """``bptui serve xor`` on a free loopback port: its URL. Killed afterwards, whatever happens."""
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
            try:
                socket.create_connection((LOOPBACK, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"bptui serve did not listen on port {port} within {START_TIMEOUT} s:\n{_tail(log)}")
                time.sleep(0.1)
        yield f"http://{LOOPBACK}:{port}/"
    finally:
        _end_group(server)


def test_the_page_is_textual_serves_bound_to_loopback(served):
    with urllib.request.urlopen(served, timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert 'class="textual-terminal"' in page and "js/textual.js" in page
    # The page's terminal connects back to the address the server is bound to: 127.0.0.1 by default.
    assert f'data-session-websocket-url="ws://{served.removeprefix("http://")}ws"' in page
    assert "bptui xor" in page  # the title


def test_the_websocket_sends_the_first_screen(served):
    """Without a browser: what textual-serve sends a page that connects (runs where Chromium is absent)."""
    import aiohttp

    async def first_screen() -> str:
        received = b""
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(served.replace("http:", "ws:") + "ws?width=100&height=30") as ws:
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


def test_the_first_screen_arrives_in_headless_chromium(served, tmp_path):
    import aiohttp

    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (on Debian: apt-get install chromium; .ci/run does it)")
    profile = tmp_path / "profile"
    log = tmp_path / "chromium.log"
    with open(log, "wb") as out:
        browser = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", "--window-size=1024,768",
             f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",  # no host but this one
             f"--remote-debugging-address={LOOPBACK}", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    seen = {"received": b"", "painted": None}

    async def browse(devtools: int) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{LOOPBACK}:{devtools}/json/list") as response:
                page = next(t for t in await response.json() if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                cdp = _DevTools(ws)
                await cdp.call("Network.enable")
                await cdp.call("Page.navigate", url=served)
                # The app's first screen, as the page's websocket receives it...
                while not all(s in _text(seen["received"]) for s in FIRST_SCREEN):
                    event = await cdp.event()
                    if event.get("method") == "Network.webSocketFrameReceived":
                        frame = event["params"]["response"]
                        data = frame["payloadData"]
                        seen["received"] += base64.b64decode(data) if frame["opcode"] == 2 else data.encode()
                # ...and as the terminal on the page paints it.
                while True:
                    result = await cdp.call("Runtime.evaluate", expression=PAINT_CHECK, returnByValue=True)
                    seen["painted"] = json.loads(result["result"]["value"])
                    if seen["painted"]["first_byte"] and seen["painted"]["bright"] >= PAINTED:
                        return
                    await asyncio.sleep(0.2)

    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it chose here
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and port_file.read_text().strip()):
            if browser.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start its DevTools server:\n{_tail(log)}")
            time.sleep(0.1)
        devtools = int(port_file.read_text().split()[0])
        try:
            asyncio.run(asyncio.wait_for(browse(devtools), SCREEN_TIMEOUT))
        except TimeoutError:
            pytest.fail(f"the first screen did not arrive within {SCREEN_TIMEOUT} s: the page received "
                        f"{_text(seen['received'])[-500:]!r}; the terminal: {seen['painted']}\n{_tail(log)}")
    finally:
        _end_group(browser)


# Without a server: the command line around it.

@pytest.fixture
def fake_server(monkeypatch):
    """textual_serve.server.Server replaced by one that records what it was given and returns at once."""
    made = []

    class Server:
        def __init__(self, command, host, port, title=None):
            made.append({"command": command, "host": host, "port": port, "title": title})

        def serve(self):
            pass

    package = types.ModuleType("textual_serve")
    module = types.ModuleType("textual_serve.server")
    module.Server = package.server = Server
    monkeypatch.setitem(sys.modules, "textual_serve", package)
    monkeypatch.setitem(sys.modules, "textual_serve.server", module)
    return made


def test_without_the_extra_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
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
    assert "no password" in err
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
