"""Every notebook, run in JupyterLab inside headless Chromium, the way a student runs it.

For each ``notebooks/*.ipynb`` (found by glob, so new notebooks are covered with no edit here):
JupyterLab starts on 127.0.0.1 with a random port and token, on a temporary folder holding
COPIES of the notebooks (the repository's files are never opened, so no output is saved back),
in quick and offline mode. Chromium, driven by Playwright, opens the notebook, runs all cells, and
checks that

* every code cell ran (it has an execution count) and none shows an error or a traceback;
* the Colab install cell did nothing (pip is made to fail loudly, so a run would show);
* every widget rendered (no "Loading widget..." or "Error displaying widget" left);
* in every widget with a slider and a plotly figure, moving one slider changes the figure's data.

Screenshots of each notebook and of each widget before and after its slider moved are saved
under ``artifacts/browser/`` (or ``$APAC_LAB_ARTIFACTS``); the path is printed at the end.

The test is skipped, with the reason, only where Chromium or Playwright is absent. Chromium is
Debian's ``chromium`` package (``apt-get install chromium``; ``.ci/run`` installs it); the real
binary is ``/usr/lib/chromium/chromium`` (``/usr/bin/chromium`` is a shell wrapper). Set
``APAC_LAB_CHROMIUM`` to use another binary. Playwright never downloads a browser here.

Run it alone with ``make test-browser``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb"))
ARTIFACTS = Path(os.environ.get("APAC_LAB_ARTIFACTS", REPO / "artifacts")) / "browser"
CHROMIUM = Path(os.environ.get("APAC_LAB_CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous per-notebook limits: a quick-mode notebook runs in <= 90 s alone on 2 cores.
RUN_TIMEOUT_S = float(os.environ.get("APAC_LAB_BROWSER_TIMEOUT", "300"))
SLIDER_TIMEOUT_S = 60.0
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

if not CHROMIUM.is_file():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
        "or set APAC_LAB_CHROMIUM to a Chromium binary",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (`pip install -r requirements.txt`)"
)


# --------------------------------------------------------------------------- JupyterLab server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(paths) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _prepare_copy(src: Path, dst: Path) -> None:
    """Copy a notebook, naming the kernel so that JupyterLab does not ask for one."""
    nb = json.loads(src.read_text())
    nb.setdefault("metadata", {})["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    dst.write_text(json.dumps(nb))


def _write_settings(folder: Path) -> None:
    """Lab settings for a test: every cell stays in the page, no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, value in settings.items():
        path = folder / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


class Lab:
    """A JupyterLab server on 127.0.0.1 with a random port and token, over a temp folder."""

    def __init__(self, notebooks: list[Path]):
        self.tmp = Path(tempfile.mkdtemp(prefix="apac-lab-browser-"))
        self.root = self.tmp / "notebooks"
        self.root.mkdir()
        for nb in notebooks:
            _prepare_copy(nb, self.root / nb.name)
        _write_settings(self.tmp / "settings")
        self.port, self.token = _free_port(), secrets.token_hex(24)
        env = dict(os.environ)
        env.update(
            APAC_LAB_QUICK="1", APAC_LAB_OFFLINE="1",  # APAC_LAB_DATA passes through as it is
            PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]),
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"), JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            IPYTHONDIR=str(self.tmp / "ipython"),
            # The Colab cell must not install anything: if its pip line ever ran, it would fail loudly.
            PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.allow_root=True", "--LabApp.expose_app_in_browser=True",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={self.tmp / 'settings'}",
            f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
            "--LabApp.news_url=",
        ]
        self.log_path = self.tmp / "jupyterlab.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_up()

    def _wait_up(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self.close()
        raise RuntimeError(f"JupyterLab did not start; its log:\n{self.log_path.read_text()[-4000:]}")

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)  # the server's own process group: it and its kernels
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(10)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def artifacts(request) -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    yield ARTIFACTS
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nbrowser test screenshots and logs: {ARTIFACTS}")


@pytest.fixture(scope="module")
def repo_digest() -> dict[str, str]:
    return _digest(NOTEBOOKS)


@pytest.fixture(scope="module")
def lab(repo_digest):
    server = Lab(NOTEBOOKS)
    yield server
    server.close()


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def browser_context():
    profile = tempfile.mkdtemp(prefix="apac-lab-chromium-")  # a new, empty --user-data-dir
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1600},
        )
        # No test may use the internet: only the local JupyterLab is reachable (badges stay blank).
        context.route("**/*", lambda route: route.continue_() if _is_local(route.request.url) else route.abort())
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- in-page probes

_STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  return {
    kernel: kernel ? kernel.status : 'none',
    pending: cells.filter(c => c.model.executionCount === null).length,
    cells: cells.length,
    errors: cells.filter(c => c.model.outputs.toJSON().some(o => o.output_type === 'error')).length,
  };
}"""

_OUTPUTS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const res = [];
  panel.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    res.push({index: i, count: c.model.executionCount,
              source: c.model.sharedModel.getSource(),
              tags: c.model.getMetadata('tags') || [],
              outputs: c.model.outputs.toJSON()});
  });
  return res;
}"""

# Mark each widget view's output node with data-apac-widget=K; return the views' model ids.
_MARK_WIDGETS_JS = """(mime) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const ids = [];
  panel.content.widgets.forEach(c => {
    if (c.model.type !== 'code') return;
    for (let i = 0; i < c.model.outputs.length; i++) {
      const data = c.model.outputs.get(i).data || {};
      if (data[mime] === undefined) continue;
      const child = c.outputArea.widgets[i];
      if (child) child.node.setAttribute('data-apac-widget', String(ids.length));
      ids.push(data[mime].model_id);
    }
  });
  return ids;
}"""

# Run code in the notebook's kernel (not as a cell: no execution count) and return its stdout.
_KERNEL_EXEC_JS = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
  await future.done;
  return out;
}"""

# A fingerprint of every plotly figure inside one element: its traces' data and its layout's
# shapes, annotations and title (all that an update may change).
_FIGURE_PRINT_JS = """(el) => {
  const plots = Array.from(el.querySelectorAll('.js-plotly-plot'));
  const parts = plots.map(p => JSON.stringify([p.data || null,
      p.layout ? [p.layout.shapes, p.layout.annotations, p.layout.title] : null]));
  const s = parts.join('|');
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return {plots: plots.length, hash: (h >>> 0).toString(16) + ':' + s.length};
}"""


def _panel_ready(page) -> None:
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=120_000)
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready; await panel.sessionContext.ready;
    }""")
    page.wait_for_function(
        "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext.session;"
        " return s && s.kernel && s.kernel.status === 'idle'; }", timeout=120_000)


def _run_all(page, name: str) -> float:
    """Run all cells; wait until the kernel is idle and every code cell ran (or one failed)."""
    start = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    idle_polls = 0
    while True:
        state = page.evaluate(_STATE_JS)
        if state["kernel"] in ("dead", "unknown", "none"):
            pytest.fail(f"{name}: the kernel is {state['kernel']} (out of memory, or crashed)")
        idle = state["kernel"] == "idle"
        finished = state["pending"] == 0 or state["errors"] > 0
        idle_polls = idle_polls + 1 if (idle and finished) else 0
        if idle_polls >= 2:
            return time.monotonic() - start
        if time.monotonic() - start > RUN_TIMEOUT_S:
            pytest.fail(f"{name}: not finished after {RUN_TIMEOUT_S:.0f} s "
                        f"({state['pending']} of {state['cells']} code cells not run; kernel {state['kernel']})")
        time.sleep(1.0)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _error_report(cells) -> list[str]:
    problems = []
    for cell in cells:
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                tb = "\n".join(out.get("traceback", []))[-1500:]
                problems.append(f"cell {cell['index']}: {out.get('ename')}: {out.get('evalue')}\n{_ANSI.sub('', tb)}")
            elif out["output_type"] == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                if "Traceback" in text:
                    problems.append(f"cell {cell['index']}: traceback on stderr\n{text[-1500:]}")
    return problems


def _closed_widgets(page, model_ids: list[str]) -> set[str]:
    """The model ids whose widgets the kernel has closed (e.g. finished tqdm bars, leave=False)."""
    code = ("import json\nfrom ipywidgets.widgets.widget import _instances as _apac_alive\n"
            f"print(json.dumps([m for m in {model_ids!r} if m not in _apac_alive]))\ndel _apac_alive")
    out = page.evaluate(_KERNEL_EXEC_JS, code)
    return set(json.loads(out.strip().splitlines()[-1])) if out.strip() else set()


def _wait_widgets_rendered(page, model_ids: list[str], name: str) -> set[int]:
    """Every live widget view shows content; no 'Loading widget...' or 'Error displaying widget'.

    Returns the indices of the views whose widgets were closed by the notebook (nothing to show)."""
    deadline = time.monotonic() + 60
    closed: set[int] | None = None
    while True:
        status = page.evaluate("""(n) => {
          const res = [];
          for (let k = 0; k < n; k++) {
            const el = document.querySelector(`[data-apac-widget="${k}"]`);
            if (!el) { res.push('missing'); continue; }
            const text = el.innerText || '';
            if (text.includes('Error displaying widget') || text.includes('Error rendering widget')) res.push('error: ' + text.slice(0, 300));
            else if (text.includes('Loading widget')) res.push('loading');
            else if (!el.querySelector('.jupyter-widgets, .widget-box, .js-plotly-plot')) res.push('empty');
            else res.push('ok');
          }
          return res;
        }""", len(model_ids))
        bad = [(k, s) for k, s in enumerate(status) if s != "ok"]
        # a closed widget (a finished tqdm bar, leave=False) shows nothing; past JupyterLab's 50 outputs
        # per cell its view is not even drawn ("missing"): both are fine once the kernel says it is closed
        if bad and closed is None and all(s in ("empty", "missing") for _, s in bad):
            gone = _closed_widgets(page, [model_ids[k] for k, _ in bad])
            closed = {k for k, _ in bad if model_ids[k] in gone}
        bad = [(k, s) for k, s in bad if not (closed and k in closed)]
        if not bad:
            return closed or set()
        if any(s.startswith("error") for _, s in bad) or time.monotonic() > deadline:
            pytest.fail(f"{name}: widgets did not render: {bad}")
        time.sleep(1.0)


# Collect the kernel's error messages and stderr tracebacks, whatever their parent: a widget
# callback's exception goes to JupyterLab's log console, not to a cell.
_LISTEN_IOPUB_JS = """() => {
  window.__apacKernelErrors = [];
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  kernel.iopubMessage.connect((_, msg) => {
    const c = msg.content || {};
    if (msg.header.msg_type === 'error') window.__apacKernelErrors.push(c.ename + ': ' + c.evalue + '\\n' + (c.traceback || []).join('\\n'));
    if (msg.header.msg_type === 'stream' && c.name === 'stderr' && (c.text || '').includes('Traceback')) window.__apacKernelErrors.push(c.text);
  });
}"""


def _widget_errors(page, widget) -> str:
    """Tracebacks a widget callback left: in the kernel's messages, or inside the widget (an Output)."""
    errors = page.evaluate("() => window.__apacKernelErrors.splice(0)")
    text = widget.inner_text()
    if "Traceback" in text:
        errors.append(text)
    return _ANSI.sub("", "\n".join(errors))[:2000]


def _move_one_slider(page, widget, k: int, name: str, shots: Path) -> str:
    """Move the first enabled slider of widget k by one step; the figure's data must change."""
    handles = widget.locator(".noUi-target:not([disabled]) .noUi-handle[role=slider]")
    figures = page.evaluate(_FIGURE_PRINT_JS, widget.element_handle())
    if handles.count() == 0 or figures["plots"] == 0:
        widget.screenshot(path=str(shots / f"widget{k}.png"))
        return f"widget {k}: {handles.count()} sliders, {figures['plots']} figures (nothing to move)"
    handle = handles.first
    handle.scroll_into_view_if_needed()
    _widget_errors(page, widget)  # forget earlier messages
    widget.screenshot(path=str(shots / f"widget{k}_before.png"))
    before_value = handle.get_attribute("aria-valuenow")
    handle.focus()
    page.keyboard.press("ArrowRight")
    time.sleep(0.3)
    if handle.get_attribute("aria-valuenow") == before_value:  # already at its maximum
        page.keyboard.press("ArrowLeft")
    after_value = handle.get_attribute("aria-valuenow")
    if after_value == before_value:
        pytest.fail(f"{name}: widget {k}: the slider did not move with the keyboard (value {before_value})")
    deadline = time.monotonic() + SLIDER_TIMEOUT_S
    while True:
        time.sleep(0.5)
        now = page.evaluate(_FIGURE_PRINT_JS, widget.element_handle())
        kernel = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")
        if now["plots"] and now["hash"] != figures["hash"] and kernel == "idle":
            break
        if kernel == "idle" and (errors := _widget_errors(page, widget)):
            widget.screenshot(path=str(shots / f"widget{k}_after.png"))
            pytest.fail(f"{name}: widget {k}: moving a slider from {before_value} to {after_value} raised:\n{errors}")
        if time.monotonic() > deadline:
            widget.screenshot(path=str(shots / f"widget{k}_after.png"))
            pytest.fail(f"{name}: widget {k}: moving a slider from {before_value} to {after_value} "
                        f"did not change its figure within {SLIDER_TIMEOUT_S:.0f} s")
    time.sleep(0.5)  # let the new frame paint before the screenshot
    widget.screenshot(path=str(shots / f"widget{k}_after.png"))
    return f"widget {k}: slider {before_value} -> {after_value}, figure changed"


# --------------------------------------------------------------------------- the tests

def test_there_are_notebooks_to_open():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_its_widgets_respond(path, lab, browser_context, artifacts):
    name = path.name
    shots = artifacts / path.stem
    shots.mkdir(parents=True, exist_ok=True)
    console: list[str] = []
    page = browser_context.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        page.goto(lab.url(name))
        _panel_ready(page)
        seconds = _run_all(page, name)
        page.evaluate(_LISTEN_IOPUB_JS)
        page.screenshot(path=str(shots / "after_run.png"))
        cells = page.evaluate(_OUTPUTS_JS)

        problems = _error_report(cells)
        dom_tracebacks = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
            .map(e => e.innerText).filter(t => t.includes('Traceback')).length""")
        assert not problems and dom_tracebacks == 0, f"{name}: cells show errors:\n" + "\n\n".join(problems)
        not_run = [c["index"] for c in cells if c["count"] is None]
        assert not not_run, f"{name}: cells {not_run} did not run"

        colab = [c for c in cells if "google.colab" in c["source"]]
        for cell in colab:  # the install cell must be guarded, and must have done nothing here
            assert 'if "google.colab" in sys.modules:' in cell["source"], f"{name}: unguarded Colab cell"
            assert cell["outputs"] == [], f"{name}: the Colab cell printed {cell['outputs']}"

        model_ids = page.evaluate(_MARK_WIDGETS_JS, WIDGET_MIME)
        report = [f"{name}: ran in {seconds:.1f} s, {len(cells)} code cells, {len(model_ids)} widget views"]
        if model_ids:
            closed = _wait_widgets_rendered(page, model_ids, name)
            for k in range(len(model_ids)):
                if k in closed:
                    report.append(f"widget {k}: closed by the notebook (e.g. a finished progress bar)")
                    continue
                widget = page.locator(f'[data-apac-widget="{k}"]')
                if not widget.is_visible():
                    # hidden by the notebook (a finished tqdm bar, leave=False, that the kernel still holds):
                    # fine when it has nothing to move; a hidden slider or figure is a failure
                    inner = widget.locator(".noUi-target, .js-plotly-plot, .widget-slider")
                    kinds = page.evaluate("(el) => el.innerHTML.slice(0, 300)", widget.element_handle())
                    assert inner.count() == 0, f"{name}: widget {k} has sliders or figures but is not visible: {kinds}"
                    report.append(f"widget {k}: hidden, nothing to move ({kinds[:120]!r})")
                    continue
                report.append(_move_one_slider(page, widget, k, name, shots))
            cells_after = page.evaluate(_OUTPUTS_JS)
            problems = _error_report(cells_after)
            assert not problems, f"{name}: moving sliders raised errors:\n" + "\n\n".join(problems)
        (shots / "report.txt").write_text("\n".join(report) + "\n")
    finally:
        (shots / "console.log").write_text("\n".join(console) + "\n")
        try:
            page.screenshot(path=str(shots / "final.png"))
            page.evaluate("async () => { const p = window.jupyterapp.shell.currentWidget;"
                          " if (p && p.sessionContext) await p.sessionContext.shutdown(); }")
        except Exception:  # the page may be gone after a failure; the server's close ends kernels
            pass
        page.close()


def test_repository_notebooks_are_untouched(repo_digest, lab):
    """Run last: the browser worked on copies, so no output was saved into notebooks/."""
    assert _digest(NOTEBOOKS) == repo_digest
