"""The Colab drawing path (``LiveFigure`` with ``backend="output"``) in headless Chromium.

Colab renders an ``Output`` widget's HTML by inserting it into the page and running its
scripts as they come: an inline script runs at once, a ``<script src>`` loads later. So a
figure whose inline ``Plotly.newPlot`` follows a ``<script src=plotly.js>`` meets
"Plotly is not defined" (googlecolab/colabtools#5889). The page here inserts outputs that
way (``inject``), plotly.js is served from 127.0.0.1 a little late (as a CDN is), and:

* plotly's own HTML for a figure fails as in #5889 (the mechanism, reproduced);
* the kit's figure page draws, loads plotly.js once for any number of figures, and
* its updates (the latest one alone, even when it arrives before plotly.js) set the figure to
  exactly what Python holds.

Nothing leaves the machine: every request but 127.0.0.1 is refused.
"""

from __future__ import annotations

import http.server
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import pytest

CHROMIUM = Path(os.environ.get("APAC_LAB_CHROMIUM", "/usr/lib/chromium/chromium"))
if not CHROMIUM.is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's package (`apt-get install chromium`)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
HARNESS = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="outputs"></div>
<script>
  // Insert an output's HTML the way an output frame does: the markup, then each script
  // re-created so that it runs (inline at once, with src when it has loaded).
  window.inject = function (html) {
    var div = document.createElement("div");
    div.innerHTML = html;
    document.getElementById("outputs").appendChild(div);
    Array.prototype.forEach.call(div.querySelectorAll("script"), function (old) {
      var s = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (a) { s.setAttribute(a.name, a.value); });
      s.text = old.text;
      old.parentNode.replaceChild(s, old);
    });
    return div;
  };
  window.errors = [];
  window.addEventListener("error", function (e) { window.errors.push(String(e.message)); });
</script></body></html>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path.endswith(".js"):
            time.sleep(0.5)  # a CDN is slower than the inline script that follows its <script> tag
        super().do_GET()


@pytest.fixture(scope="module")
def server():
    folder = tempfile.mkdtemp(prefix="apac-lab-output-path-")
    (Path(folder) / "plotly.min.js").write_bytes(PLOTLY_JS.read_bytes())
    (Path(folder) / "index.html").write_text(HARNESS)
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=folder))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()


@pytest.fixture(scope="module")
def context():
    profile = tempfile.mkdtemp(prefix="apac-lab-chromium-")
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True,
                                                    args=["--no-sandbox", "--disable-gpu"])
        ctx.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
        yield ctx
        ctx.close()


@pytest.fixture()
def page(server, context):
    base, handler = server
    p = context.new_page()
    p.route("**/plotly.min.js", lambda r: r.continue_(headers={**r.request.headers, "cache-control": "no-cache"}))
    handler.requests.clear()
    p.goto(base + "/index.html")
    yield p
    p.close()


def _live(monkeypatch, server, z):
    from apac_lab.widgets import LiveFigure

    monkeypatch.setenv("APAC_LAB_PLOTLYJS", server[0] + "/plotly.min.js")
    fig = go.Figure(go.Heatmap(z=z))
    fig.update_layout(title="start", height=300)
    return LiveFigure(fig, backend="output")


def _html(out) -> str:
    return out.outputs[0]["data"]["text/html"]


def _drawn(page, live) -> dict:
    page.wait_for_function(f"() => {{ const el = document.querySelector('[data-apac-live=\"{live.id}\"]');"
                           " return el && el._fullLayout; }", timeout=20_000)
    page.wait_for_timeout(300)  # let queued updates finish
    return page.evaluate(f"""() => {{
      const el = document.querySelector('[data-apac-live="{live.id}"]');
      const z = el._fullData[0].z;
      return {{z: Array.from(z, r => Array.from(r)), title: el._fullLayout.title.text, errors: window.errors}};
    }}""")


def test_plotlys_own_html_meets_plotly_is_not_defined(page, server):
    """The bug of colabtools#5889, reproduced: the inline script runs before plotly.js has loaded."""
    html = pio.to_html(go.Figure(go.Scatter(y=[1, 2])), include_plotlyjs=server[0] + "/plotly.min.js",
                       full_html=False)
    page.evaluate("html => { inject(html); }", html)
    page.wait_for_timeout(1500)
    assert any("Plotly is not defined" in e for e in page.evaluate("() => window.errors"))


def test_the_kits_page_draws_after_plotly_js_has_loaded(page, server, monkeypatch):
    z = np.arange(12, dtype=float).reshape(3, 4) / 7
    live = _live(monkeypatch, server, z)
    page.evaluate("html => { inject(html); }", _html(live._view))
    got = _drawn(page, live)
    assert got["errors"] == [] and got["title"] == "start"
    np.testing.assert_allclose(got["z"], z, rtol=1e-6)  # float32 on the wire


def test_updates_set_exactly_what_python_holds_even_before_plotly_js(page, server, monkeypatch):
    live = _live(monkeypatch, server, np.zeros((3, 4)))
    page.evaluate("html => { inject(html); }", _html(live._view))
    for k in (1, 2):  # two updates: the channel holds only the latest, which carries both changes
        live.update(lambda f, k=k: f.data[0].update(z=np.full((3, 4), k / 3)) if k == 1 else f.layout.update(title="two"))
    page.evaluate("html => { inject(html); }", _html(live._channel))  # arrives while plotly.js still loads
    got = _drawn(page, live)
    assert got["errors"] == [] and got["title"] == "two"
    np.testing.assert_allclose(got["z"], np.full((3, 4), 1 / 3), rtol=1e-6)


def test_plotly_js_is_loaded_once_for_many_figures(page, server, monkeypatch):
    lives = [_live(monkeypatch, server, np.eye(3) * (i + 1)) for i in range(3)]
    for live in lives:
        page.evaluate("html => { inject(html); }", _html(live._view))
    for i, live in enumerate(lives):
        np.testing.assert_allclose(_drawn(page, live)["z"], np.eye(3) * (i + 1))
    assert sum(r.endswith("plotly.min.js") for r in server[1].requests) == 1
