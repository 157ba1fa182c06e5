"""Pages as their readers see them: Debian's headless Chromium, driven through
its DevTools protocol.

A page is loaded exactly as it was built.  The math engines it fetches from a
CDN (MathJax 3 and 4, KaTeX, MathJax 4's font) are answered from the copies
npm installed in ``tests/node_modules`` (pinned in ``tests/package-lock.json``),
so the tests run offline with the engine the page asks for; every other
request to the network fails, as it would offline, and is recorded.

``formula_report`` counts the typeset formulas (MathJax's ``mjx-container``,
KaTeX's ``.katex``, native ``math``) and returns the page's text with them
taken out, in which any TeX left (a backslash command, ``$``, ``\\(``) is
math that was not typeset.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from conftest import ROOT, _missing, require_module, require_tool

NODE_MODULES = ROOT / "tests" / "node_modules"

# URL prefixes of the CDNs the documented configurations name → the npm copy that answers them.
# MathJax 4 finds its font beside itself, as @mathjax/mathjax-newcm-font on the same CDN.
_CDN = [
    (re.compile(r"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/mathjax@4[^/]*/"), NODE_MODULES / "mathjax"),
    (re.compile(r"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/@mathjax/mathjax-newcm-font@4[^/]*/"),
     NODE_MODULES / "@mathjax" / "mathjax-newcm-font"),
    (re.compile(r"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/mathjax@3[^/]*/"), NODE_MODULES / "mathjax3"),
    (re.compile(r"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/katex@[^/]*/"), NODE_MODULES / "katex"),
]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-port=0",
]

# Everything typeset, by engine; and what of the page's text is not to be read as prose.
TYPESET = "mjx-container, .katex, math"
NOT_TEXT = "script, style, noscript, template, svg, mjx-assistive-mml, .katex-mathml, annotation"

_REPORT = f"""(() => {{
  const count = (selector) => document.querySelectorAll(selector).length;
  const body = document.body.cloneNode(true);
  // Nested typeset elements (KaTeX's MathML inside .katex) count once: the outermost.
  const outermost = [...document.querySelectorAll({json.dumps(TYPESET)})]
      .filter((e) => !e.parentElement.closest({json.dumps(TYPESET)}));
  body.querySelectorAll({json.dumps(TYPESET + ", " + NOT_TEXT)}).forEach((e) => e.remove());
  return {{
    typeset: outermost.length,
    display: outermost.filter((e) => e.getAttribute('display') === 'true' || e.getAttribute('display') === 'block'
                                     || e.closest('.katex-display') !== null).length,
    mathjax: count('mjx-container'), katex: count('.katex'), mathml: count('math'),
    errors: count('mjx-merror, .katex-error, merror'),
    text: body.textContent,
  }};
}})()"""

# The identifiers each formula is set with, as the engine itself holds them: MathJax's
# internal MathML, KaTeX's italic letter boxes, a page's own MathML (letters folded to
# ASCII, so that a mathematical italic n is an n).  A formula ends with "".
_IDENTIFIERS = """(() => {
  const units = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.toMML) {
    for (const item of MathJax.startup.document.getMathItemsWithin(document.body)) {
      for (const found of MathJax.startup.toMML(item.root).matchAll(/<mi[^>]*>([^<]*)<\\/mi>/g)) units.push(found[1].trim());
      units.push('');
    }
  }
  document.querySelectorAll('.katex-html').forEach((formula) => {
    formula.querySelectorAll('.mord.mathnormal, .mord.mathit').forEach((e) => {
      if (!e.querySelector('*')) units.push(e.textContent);
    });
    units.push('');
  });
  document.querySelectorAll('math').forEach((formula) => {
    if (formula.closest('.katex, mjx-container, mjx-assistive-mml')) return;
    formula.querySelectorAll('mi').forEach((e) => units.push(e.textContent.normalize('NFKC')));
    units.push('');
  });
  return units;
})()"""

# How close the fractions of a multi-line display come to the rows above and below
# them: for each display with a fraction and another row beside it, the smallest gap
# in pixels between a fraction and a glyph of another row under or over it (a negative
# gap is an overlap).  A row is the display's outermost table row: MathML's and
# MathJax's ``mtr``, or in KaTeX the n-th cell of each column of its ``mtable``.
_FRACTION_GAPS = """(() => {
  const displays = [...document.querySelectorAll('mjx-container[display="true"], .katex-display, math[display="block"]')]
      .filter((d) => !d.parentElement.closest('mjx-container, .katex-display, math'));
  const visible = (e) => !e.closest('.katex-mathml, mjx-assistive-mml, annotation');
  const rowOf = (e, display) => {
    let row = null;
    for (let at = e; at && at !== display; at = at.parentElement) {
      if (at.matches('mtr, mjx-mtr')) row = [...at.parentElement.children].indexOf(at);
      else if (at.parentElement && at.parentElement.matches('.vlist')
               && at.parentElement.closest('.col-align-l, .col-align-r, .col-align-c')
               && at.parentElement.parentElement.parentElement.parentElement.matches('.col-align-l, .col-align-r, .col-align-c'))
        row = [...at.parentElement.children].indexOf(at);
    }
    return row;
  };
  const gaps = [];
  for (const display of displays) {
    const fractions = [...display.querySelectorAll('mjx-mfrac, .mfrac, mfrac')].filter(visible)
        .map((e) => [e, e.getBoundingClientRect(), rowOf(e, display)]).filter(([, , row]) => row !== null);
    if (fractions.length === 0) continue;
    const glyphs = [...display.querySelectorAll('*')].filter((e) => e.children.length === 0 && visible(e))
        .map((e) => [e, e.getBoundingClientRect(), rowOf(e, display)])
        .filter(([, r, row]) => r.width > 0.5 && r.height > 0.5 && row !== null);
    let closest = Infinity;
    for (const [, f, row] of fractions) for (const [, g, other] of glyphs) {
      if (other === row || Math.min(f.right, g.right) - Math.max(f.left, g.left) <= 0) continue;
      closest = Math.min(closest, other > row ? g.top - f.bottom : f.top - g.bottom);
    }
    if (closest !== Infinity) gaps.push(closest);
  }
  return gaps;
})()"""

RAW_TEX = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$|\\begin\{")


def split_names(identifiers: list[str], names=("net", "out", "total", "target", "output")) -> dict[str, object]:
    """How often each multi-letter name is set as that many one-letter identifiers
    (``net`` as the product n·e·t), and how often as one identifier; where the first split one is."""
    joined = "|" + "|".join(identifiers) + "|"
    found: dict[str, object] = {name: joined.count("|" + "|".join(name) + "|") for name in names}
    found |= {f"{name} whole": identifiers.count(name) for name in names}
    for name in names:
        at = joined.find("|" + "|".join(name) + "|")
        if at >= 0:
            found[f"{name} at"] = joined[max(0, at - 60):at + 60]
    return found


def raw_tex(text: str) -> list[str]:
    """Pieces of TeX left in a page's text (with a little context each)."""
    return [text[max(m.start() - 30, 0):m.end() + 30] for m in RAW_TEX.finditer(text)]


def _local_file(url: str) -> Path | None:
    for prefix, directory in _CDN:
        match = prefix.match(url)
        if match:
            path = directory / url[match.end():].split("?")[0].split("#")[0]
            return path if path.is_file() else None
    return None


class Browser:
    """One headless Chromium for a test session; ``load`` opens a page in a fresh tab."""

    def __init__(self) -> None:
        websocket = require_module("websocket")
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            require_tool("chromium")
        if not (NODE_MODULES / "mathjax").is_dir() or not (NODE_MODULES / "katex").is_dir():
            _missing("MathJax and KaTeX are not installed (npm ci --prefix tests)")
        self._websocket = websocket
        self.profile = tempfile.mkdtemp(prefix="explainer-chromium-")
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.port = self._port()

    def _port(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                return int(match.group(1))
        raise RuntimeError("Chromium did not start its DevTools server")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def load(self, url: str, *, dark: bool = False, width: int = 1200, height: int = 1600,
             settle: float = 0.5, timeout: float = 60) -> Page:
        """The page at ``url``, loaded and its math typeset; ``dark`` emulates
        ``prefers-color-scheme: dark``."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        target = json.load(urllib.request.urlopen(request, timeout=10))
        page = Page(self, self._websocket.create_connection(target["webSocketDebuggerUrl"], timeout=timeout), target["id"])
        page.open(url, dark=dark, width=width, height=height, settle=settle, timeout=timeout)
        return page


class Page:
    def __init__(self, browser: Browser, connection, target_id: str) -> None:
        self.browser = browser
        self.connection = connection
        self.target_id = target_id
        self.next_id = 0
        self.events: list[dict] = []
        self.blocked: list[str] = []  # what this page asked the network for, and did not get

    # --- the protocol
    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        own = self.next_id
        self.connection.send(json.dumps({"id": own, "method": method, "params": params}))
        while True:
            message = json.loads(self.connection.recv())
            if message.get("id") == own:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        if message.get("method") == "Fetch.requestPaused":
            self._answer(message["params"])
        else:
            self.events.append(message)

    def _answer(self, request: dict) -> None:
        url = request["request"]["url"]
        path = _local_file(url)
        self.next_id += 1
        if path is None:
            self.blocked.append(url)
            command = {"method": "Fetch.failRequest", "params": {"requestId": request["requestId"], "errorReason": "InternetDisconnected"}}
        else:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            command = {"method": "Fetch.fulfillRequest", "params": {
                "requestId": request["requestId"], "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": kind},
                                    {"name": "Access-Control-Allow-Origin", "value": "*"}],
                "body": base64.b64encode(path.read_bytes()).decode(),
            }}
        # Fire and forget: its reply is skipped by ``send`` (no one waits for its id).
        self.connection.send(json.dumps({"id": self.next_id, **command}))

    def pump(self, seconds: float) -> None:
        """Answer the page's requests for a while."""
        deadline = time.monotonic() + seconds
        self.connection.settimeout(0.05)
        try:
            while time.monotonic() < deadline:
                try:
                    self._event(json.loads(self.connection.recv()))
                except self.browser._websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.connection.settimeout(60)

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    # --- what a test asks for
    def open(self, url: str, *, dark: bool, width: int, height: int, settle: float, timeout: float) -> None:
        self.send("Fetch.enable", patterns=[{"urlPattern": "http*://*"}])
        self.send("Page.enable")
        self.send("Runtime.enable")  # the page's uncaught exceptions and console messages, for ``errors``
        self.send("Log.enable")  # the browser's own: a resource that failed to load
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.send("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}])
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not load in {timeout} s")
            self.pump(0.1)
        self.wait_for_math(deadline)
        self.pump(settle)

    def wait_for_math(self, deadline: float) -> None:
        """Until MathJax (if the page has it) has typeset everything and the fonts are in."""
        waiting = """(() => {
            const mj = window.MathJax;
            if (document.querySelector('script[src*="mathjax"]') && !(mj && mj.startup && mj.startup.promise)) return 'loading';
            return 'ready';
        })()"""
        while self.evaluate(waiting) == "loading":
            if any("mathjax" in url.lower() for url in self.blocked):
                return  # an engine no npm copy answers (a page shown offline): the math left is raw
            if time.monotonic() > deadline:
                raise RuntimeError("MathJax did not start")
            self.pump(0.1)
        self.evaluate("""(async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
            if (window.MathJax && MathJax.typesetPromise) await MathJax.typesetPromise();
            await document.fonts.ready;
        })()""", await_promise=True)

    def report(self) -> dict:
        return self.evaluate(_REPORT)

    def fraction_gaps(self) -> list[float]:
        """For each multi-line display with a fraction, how close its fractions come to the other rows (pixels)."""
        return self.evaluate(_FRACTION_GAPS)

    def identifiers(self) -> list[str]:
        """Every identifier of every typeset formula, in order; "" after each formula."""
        return self.evaluate(_IDENTIFIERS)

    def errors(self) -> list[str]:
        """The page's uncaught exceptions, console errors and the browser's error messages about it, so far."""
        self.pump(0.1)
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        try:
            self.connection.close()
        finally:
            urllib.request.urlopen(f"http://127.0.0.1:{self.browser.port}/json/close/{self.target_id}", timeout=10)


def file_url(path: Path) -> str:
    return Path(os.path.abspath(path)).as_uri()


_LABELS = """(() => {
  const svgs = [...document.querySelectorAll('svg.explainer-svg')];
  const boxes = [];
  for (const svg of svgs) {
    svg.scrollIntoView({block: 'center'});
    const figure = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      boxes.push({text: text.textContent, x: r.x, y: r.y, width: r.width, height: r.height,
                  figure: svgs.indexOf(svg)});
    }
  }
  return boxes;
})()"""


def _luminance(rgb) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG's contrast ratio of two colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def label_contrasts(page: Page) -> list[tuple[str, float]]:
    """Every text of every explainer figure on the page, with the contrast of its
    strongest pixel against the colour behind it (the commonest in its box),
    read from screenshots: each figure scrolled into view in turn."""
    import io

    import numpy
    from PIL import Image

    figures = page.evaluate("document.querySelectorAll('svg.explainer-svg').length")
    results = []
    for index in range(figures):
        boxes = page.evaluate(_LABELS.replace("for (const svg of svgs)", f"for (const svg of [svgs[{index}]])"))
        image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        for box in boxes:
            left, top = int(box["x"]), int(box["y"])
            right, bottom = int(box["x"] + box["width"]) + 1, int(box["y"] + box["height"]) + 1
            if box["width"] < 1 or top < 0 or bottom > image.height:
                continue
            pixels = [tuple(p) for p in numpy.asarray(image.crop((left, top, right, bottom))).reshape(-1, 3).tolist()]
            background = max(set(pixels), key=pixels.count)
            results.append((box["text"], max(contrast(p, background) for p in set(pixels))))
    return results
