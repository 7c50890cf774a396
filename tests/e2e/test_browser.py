"""The resident report in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` (the protocol as NUL-separated JSON on
file descriptors 3 and 4), so the test needs no extra Python package. For the demo's
Japanese report at 1280 px and at 360 px it checks that the page loaded with no console
error and no network request besides the page itself, that the Japanese headings are in the
DOM, and that the screenshots (kept in the test's temporary folder) are not blank.

CI (``.ci/run``) installs Debian's ``chromium`` and ``fonts-noto-cjk``; the test is skipped
only when Chromium is missing outside CI.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.demo import build_demo
from partnership_ledger.reports import build_report, render_report
from partnership_ledger.reports.i18n import translations

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 60.0


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
    pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")


class DevTools:
    """A Chromium process and its DevTools pipe: send commands, collect events."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def connect_pipe() -> None:  # in the child: the protocol reads fd 3 and writes fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=connect_pipe,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the DevTools pipe (exit {self.process.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event


@pytest.fixture
def devtools(tmp_path: Path) -> Iterator[DevTools]:
    tools = DevTools(chromium_path(), tmp_path / "chromium-profile")
    try:
        yield tools
    finally:
        tools.close()


@pytest.fixture(scope="module")
def demo_report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser-demo")
    with PartnershipLedger.open(build_demo(folder / "demo"), create=False) as ledger:
        model = build_report(ledger, "puppet-tour")
    assert model["language"] == "ja"  # a ledger in yen is reported in Japanese by default
    page = folder / "puppet-tour.html"
    page.write_text(render_report(model), encoding="utf-8")
    return page


def load(tools: DevTools, url: str, width: int, shot: Path) -> dict[str, Any]:
    """Open ``url`` at ``width`` px; return what happened and save a full-page screenshot."""
    target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.send(f"{domain}.enable", session=session)
    tools.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
        session=session,
    )
    tools.send("Page.navigate", {"url": url}, session=session)
    tools.wait_for("Page.loadEventFired", session)
    headings = tools.send(
        "Runtime.evaluate",
        {
            "expression": "JSON.stringify([...document.querySelectorAll('h1,h2,h3,h4')].map(h => h.textContent))",
            "returnByValue": True,
        },
        session=session,
    )["result"]["value"]
    overflow = tools.send(
        "Runtime.evaluate",
        {"expression": "document.documentElement.scrollWidth", "returnByValue": True},
        session=session,
    )["result"]["value"]
    metrics = tools.send("Page.getLayoutMetrics", session=session)
    height = min(int(metrics["cssContentSize"]["height"]), 12000)
    picture = tools.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
        session=session,
    )
    shot.write_bytes(base64.b64decode(picture["data"]))
    mine = [e for e in tools.events if e.get("sessionId") == session]
    return {
        "headings": json.loads(headings),
        "scroll_width": overflow,
        "requests": [e["params"]["request"]["url"] for e in mine if e["method"] == "Network.requestWillBeSent"],
        "failed": [e["params"] for e in mine if e["method"] == "Network.loadingFailed"],
        "console": [
            e["params"]
            for e in mine
            if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown")
            or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))
        ],
    }


def not_blank(path: Path) -> bool:
    """More than a sliver of the picture is neither white nor a single flat colour."""
    with Image.open(path) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
        total = grey.width * grey.height
    dark = sum(histogram[:200])  # pixels clearly darker than the white page
    shades = sum(1 for count in histogram if count)
    return dark > total * 0.01 and shades > 16


@pytest.mark.parametrize("width", [1280, 360])
def test_the_japanese_report_loads_cleanly_in_chromium(
    devtools: DevTools, demo_report_page: Path, tmp_path: Path, width: int
) -> None:
    url = demo_report_page.as_uri()
    shot = tmp_path / f"report-{width}.png"
    seen = load(devtools, url, width, shot)

    assert seen["console"] == [], "the page logged errors or warnings"
    assert seen["failed"] == []
    assert seen["requests"] == [url], "the page requested something besides itself"
    ja = translations("ja").gettext
    for heading in ("The shared purpose", "Who takes part", "Balance of burden and voice", "Targets"):
        assert ja(heading) != heading
        assert ja(heading) in seen["headings"]
    assert "人形劇の学校巡回" in seen["headings"]
    # Readable at this width: wide tables scroll inside their own box, the page does not.
    assert seen["scroll_width"] <= width
    assert shot.stat().st_size > 10_000
    assert not_blank(shot)
