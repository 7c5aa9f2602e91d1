"""A small Chrome DevTools Protocol client: Debian's chromium, headless, driven over its
debugging WebSocket.

Chosen over Selenium: no chromedriver whose version must match the browser's, nothing that
could download a driver, and the protocol's own events are what the tests assert on: every
request the page makes (Fetch), every console message and uncaught exception (Runtime, Log),
every dialog (Page). One thread: whenever a test waits, this pumps the socket and answers
paused requests, so nothing blocks.

Nothing leaves the machine, three times over: every request of a page is paused, and only
plain-http loopback ones (our test servers) continue, the others are failed and recorded in
`Page.blocked`; the browser itself resolves no host name but 127.0.0.1; and its own traffic
(updates, safe browsing) goes to a proxy on a closed loopback port.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # the discard port, closed: a dead end for leaks
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
)
TIMEOUT = 10.0
Json = dict[str, Any]


class CDPError(RuntimeError):
    pass


@dataclass
class Page:
    """One tab, attached through a flat session: its requests, messages and dialogs so far."""

    browser: Browser
    session: str
    target: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    redirects: list[tuple[str, int, str]] = field(default_factory=list)  # (url, status, to)
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    dialogs: list[str] = field(default_factory=list)
    loads: int = 0

    def call(self, method: str, **params: Any) -> Json:
        return self.browser.call(method, params, session=self.session)

    def on_event(self, method: str, params: Json) -> None:
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            self.requests.append(url)
            parts = urlsplit(url)
            if parts.scheme == "http" and parts.hostname == "127.0.0.1":
                self.browser.send(
                    "Fetch.continueRequest", {"requestId": params["requestId"]}, self.session
                )
            else:
                self.blocked.append(url)
                failure = {"requestId": params["requestId"], "errorReason": "BlockedByClient"}
                self.browser.send("Fetch.failRequest", failure, self.session)
        elif method == "Network.requestWillBeSent" and "redirectResponse" in params:
            response = params["redirectResponse"]
            location = params["request"]["url"]
            self.redirects.append((response["url"], response["status"], location))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
            )
            self.console.append((params["type"], text))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.console.append(
                ("error", details.get("exception", {}).get("description", details["text"]))
            )
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append((entry["level"], f"{entry['text']} {entry.get('url', '')}".strip()))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params["message"])
            self.browser.send("Page.handleJavaScriptDialog", {"accept": True}, self.session)
        elif method == "Page.loadEventFired":
            self.loads += 1

    def errors(self) -> list[str]:
        return [text for level, text in self.console if level in ("error", "assert")]

    def wait_until(self, done: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not get there in time")
            self.browser.pump(0.05)

    def goto(self, url: str) -> None:
        loads = self.loads
        result = self.call("Page.navigate", url=url)
        if "errorText" in result:
            raise CDPError(f"{url}: {result['errorText']}")
        self.wait_until(lambda: self.loads > loads)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']['text']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (a trusted event) in the middle of the element."""
        box = self.evaluate(
            f"""(() => {{
                const element = document.querySelector({json.dumps(selector)});
                element.scrollIntoView({{block: "center"}});
                const r = element.getBoundingClientRect();
                return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path, *, width: int, dark: bool, max_height: int = 4000) -> int:
        """The page at `width` CSS pixels (a phone's below 600, with touch and mobile layout)
        in the light or dark scheme, down to `max_height`; returns the PNG's size in bytes."""
        mobile = width < 600
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=800,
            deviceScaleFactor=1,  # CSS pixels: small files, and the layout is the same
            mobile=mobile,
        )
        scheme = "dark" if dark else "light"
        self.call(
            "Emulation.setEmulatedMedia",
            features=[{"name": "prefers-color-scheme", "value": scheme}],
        )
        self.evaluate(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        height = min(self.evaluate("document.documentElement.scrollHeight"), max_height)
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        shot = self.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        data = base64.b64decode(shot["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return len(data)


class Browser:
    """A chromium process with a fresh profile, and its debugging connection."""

    def __init__(self, profile: Path) -> None:
        self._process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # No proxy from the environment on the way to loopback; no context manager, as the
        # connection lives as long as this object.
        self._socket: ClientConnection = connect(
            self._endpoint(profile), max_size=None, proxy=None, legacy=True
        )
        self._next_id = 0
        self._results: dict[int, Json] = {}
        self._pages: dict[str, Page] = {}

    def _endpoint(self, profile: Path) -> str:
        # With port 0 chromium picks a free port and writes it, and the browser's WebSocket
        # path, to DevToolsActivePort in the profile.
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            lines = active.read_text().split() if active.exists() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        self._process.kill()
        raise CDPError("chromium did not open its debugging port")

    def send(self, method: str, params: Json, session: str | None = None) -> int:
        self._next_id += 1
        message: Json = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        return self._next_id

    def call(self, method: str, params: Json | None = None, *, session: str | None = None) -> Json:
        sent = self.send(method, params or {}, session)
        deadline = time.monotonic() + TIMEOUT
        while sent not in self._results:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {method}")
            self.pump(0.1)
        answer = self._results.pop(sent)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error'].get('message')}")
        result: Json = answer.get("result", {})
        return result

    def pump(self, timeout: float) -> None:
        """Handle at most one message: an answer is kept for `call`, an event goes to its page."""
        try:
            raw = self._socket.recv(timeout=timeout)
        except TimeoutError:
            return
        message: Json = json.loads(raw)
        if "id" in message:
            self._results[message["id"]] = message
        elif message.get("sessionId") in self._pages:
            self._pages[message["sessionId"]].on_event(message["method"], message.get("params", {}))

    def new_page(self) -> Page:
        """A tab in a context of its own: no cookies or storage shared with other tests."""
        context = self.call("Target.createBrowserContext", {"disposeOnDetach": True})
        target = self.call(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": context["browserContextId"]},
        )
        session = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, session["sessionId"], target["targetId"])
        self._pages[page.session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Fetch.enable", patterns=[{"urlPattern": "*", "requestStage": "Request"}])
        return page

    def close_page(self, page: Page) -> None:
        del self._pages[page.session]
        self.call("Target.closeTarget", {"targetId": page.target})

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (CDPError, TimeoutError, ConnectionClosed):
            pass  # already going: the process is waited for below either way
        finally:
            self._socket.close()
            try:
                self._process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
