"""The documentation site (docs/): every public name in the API reference,
and the built pages as a browser shows them.

The site is built once per session with ``sphinx-build -W --keep-going -n``
(warnings are errors) into a temporary folder, from the installed package,
unless ``FASTLOSS_DOCS_HTML`` names an HTML build to check instead (CI sets
it to the build it has just made, so that the site is built once).

The module is skipped where Sphinx is not installed (``pip install
".[docs]"``), unless ``FASTLOSS_REQUIRE_DOCS=1``: then that, and a missing
browser, are failures. The browser test drives Debian's Chromium
(``apt-get install chromium``) headless, on pages served from 127.0.0.1.
"""
from __future__ import annotations

import functools
import http.server
import importlib
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REQUIRED = os.environ.get("FASTLOSS_REQUIRE_DOCS") == "1"
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API_MODULES = ("fastloss", "fastloss.book", "fastloss.reference", "fastloss.dask")

if not (DOCS / "conf.py").is_file():
    # tests copied away from the checkout (CI's wheel stage): no docs to build
    pytest.skip("docs/conf.py is not beside the tests: the docs live in the checkout",
                allow_module_level=True)

try:
    import sphinx  # noqa: F401
    from sphinx.util.inventory import InventoryFile
except ImportError:
    if REQUIRED:
        raise
    pytest.skip('Sphinx is not installed: pip install ".[docs]" '
                "(FASTLOSS_REQUIRE_DOCS=1 makes this a failure)", allow_module_level=True)


def _public_names():
    names = []
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        names += [(modname, name) for name in module.__all__]
    return names


@pytest.fixture(scope="session")
def html_dir(tmp_path_factory) -> Path:
    """The built HTML site: FASTLOSS_DOCS_HTML's, or one built here."""
    given = os.environ.get("FASTLOSS_DOCS_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"FASTLOSS_DOCS_HTML={given}: no index.html"
        return html
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    # run from the temporary folder, so that the checkout is not on sys.path
    # (``python -m`` puts the working directory first): autodoc imports the
    # installed fastloss, as the CI build does
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
           "-b", "html", "-d", str(out / "doctrees"), str(DOCS), str(html)]
    proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-10000:]}")
    return html


def test_every_public_name_is_in_the_api_reference(html_dir):
    with open(html_dir / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", os.path.join)
    documented = {}
    for objtype, entries in inventory.items():
        if objtype.startswith("py:"):
            for name, entry in entries.items():
                documented[name] = (objtype, entry)
    missing = [f"{m}.{n}" for m, n in _public_names() if f"{m}.{n}" not in documented]
    assert not missing, f"public names missing from the API reference: {missing}"
    for modname, name in _public_names():
        objtype, _ = documented[f"{modname}.{name}"]
        if objtype in ("py:function", "py:class"):
            # one generated page each, from the docstring
            page = html_dir / "api" / "generated" / f"{modname}.{name}.html"
            assert page.is_file(), page
            assert f'id="{modname}.{name}"' in page.read_text(encoding="utf-8"), page
    for modname in API_MODULES[1:]:
        assert documented[modname][0] == "py:module"


def test_the_user_guide_pages_are_built(html_dir):
    for page in ("installation", "changelog", "contract", "design", "performance",
                 "guide/from_the_book", "guide/losses", "guide/training",
                 "guide/performance", "guide/accuracy", "guide/distributed"):
        assert (html_dir / f"{page}.html").is_file(), page
    # the training page's figure, drawn when the site was built
    training = (html_dir / "guide" / "training.html").read_text(encoding="utf-8")
    figures = re.findall(r'<img[^>]+class="plot-directive"[^>]+src="([^"]+\.png)"', training)
    assert figures, "no loss-curve figure on guide/training.html"
    assert all((html_dir / "guide" / src).resolve().stat().st_size > 10_000 for src in figures)
    # the speed plot of the performance page
    assert "speedup.png" in (html_dir / "guide" / "performance.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# In a real browser


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def server(html_dir):
    """The built site over HTTP on 127.0.0.1 (as a web server serves it)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _render(browser, url, screenshot: Path, profile: Path) -> str:
    """The DOM of ``url`` after its scripts ran, and a screenshot of it."""
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={profile}", "--window-size=1280,1600",
              # time for MathJax to typeset (virtual time: no real wait)
              "--virtual-time-budget=20000"]
    shot = subprocess.run(common + [f"--screenshot={screenshot}", url],
                          capture_output=True, text=True, timeout=120)
    assert screenshot.is_file() and screenshot.stat().st_size > 20_000, (
        f"no screenshot of {url}:\n{shot.stderr[-3000:]}")
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0 and "</html>" in dom.stdout, (
        f"--dump-dom {url} failed:\n{dom.stderr[-3000:]}")
    return dom.stdout


def test_pages_render_in_a_browser(html_dir, server, tmp_path):
    browser = _browser()
    if browser is None:
        message = ("no Chromium (or Chrome) found: apt-get install chromium "
                   "to run the browser test")
        if REQUIRED:
            pytest.fail(message + " (FASTLOSS_REQUIRE_DOCS=1)")
        pytest.skip(message)
    shots = html_dir.parent / "screenshots"
    shots.mkdir(exist_ok=True)

    index = _render(browser, f"{server}/index.html", shots / "index.png", tmp_path / "p1")
    # the theme's navigation bar, with the site's sections
    assert "bd-header" in index and "navbar" in index
    for title in ("Installation", "User guide", "API reference"):
        assert re.search(rf">\s*{title}\s*<", index), title
    assert "Fast loss functions for NumPy neural networks" in index

    page = _render(browser, f"{server}/api/generated/fastloss.cross_entropy.html",
                   shots / "cross_entropy.png", tmp_path / "p2")
    assert "bd-sidebar-primary" in page and "bd-docs-nav" in page   # section navigation
    assert 'id="fastloss.cross_entropy"' in page
    # MathJax 3 ran, from the site itself, and typeset the formula without error
    assert re.search(r'<script[^>]+src="[^"]*_static/mathjax/tex-chtml\.js', page)
    assert "cdn" not in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page)[0]
    assert page.count("<mjx-container") >= 1, "no MathJax output (mjx-container)"
    assert "<mjx-merror" not in page, "MathJax reported a TeX error"
