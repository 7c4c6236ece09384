"""Sphinx configuration of the fastloss documentation.

Build (from the repository root, with ``pip install ".[docs]"``)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html
    sphinx-build -b doctest docs docs/_build/doctest

The API reference is generated from the docstrings of the *installed*
package: this file does not put the checkout on ``sys.path``. Nothing here
needs the network: MathJax is served from the build's own ``_static``
(copied from the ``sphinx-mathjax-offline`` package) and there is no
intersphinx; names of other projects that the docstrings mention are listed
in ``nitpick_ignore_regex`` below.
"""
from __future__ import annotations

import datetime
import doctest
import importlib
import importlib.util
import os
import re
import shutil

import fastloss

# -- Project -----------------------------------------------------------------

project = "fastloss"
author = "the fastloss developers"
copyright = f"{datetime.date.today().year}, {author}"
release = fastloss.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
default_role = "code"           # `x` is inline code, as in the Markdown notes
pygments_style = "sphinx"
nitpicky = True                 # (-n on the command line does the same)

# -- MyST (docs/contract.md, design.md and performance.md) -------------------

myst_enable_extensions = ["dollarmath"]
# GitHub's anchors for "## Headings", which the notes and README link to
# (contract.md#binary-cross-entropy-element-wise)
myst_heading_anchors = 4

# -- autodoc, autosummary, numpydoc -----------------------------------------

autosummary_generate = True     # api/generated/*.rst, one page per public name
autosummary_imported_members = True
autodoc_typehints = "none"      # the signatures come from the docstrings
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Types of other projects, named in docstrings and signatures: there is no
# intersphinx (the build runs without network), so they are left unlinked.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|dask|da|ml_dtypes|numbers|typing|collections\.abc)\..*"),
]

# -- doctest: every code block of the guide runs ------------------------------

doctest_global_setup = """
import numpy as np
import fastloss
"""
# a page's np.set_printoptions must not leak into the next page's outputs
doctest_global_cleanup = """
import numpy as np
np.set_printoptions(edgeitems=3, infstr="inf", linewidth=75, nanstr="nan",
                    precision=8, suppress=False, threshold=1000, formatter=None,
                    sign="-", floatmode="maxprec", legacy=False)
"""
# >>> blocks (the guide's and the docstrings' pulled in by autodoc) are tested
doctest_test_doctest_blocks = "default"
# Sphinx's defaults less IGNORE_EXCEPTION_DETAIL (the messages shown are
# checked too), plus NORMALIZE_WHITESPACE (NumPy's array padding, long
# outputs wrapped over lines), as NumPy's own doctests run
doctest_default_flags = (doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
                         | doctest.NORMALIZE_WHITESPACE)
trim_doctest_flags = True

# -- matplotlib's plot directive (the training page's loss curve) ------------

plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (6.4, 3.6), "savefig.bbox": "tight"}
plot_apply_rcparams = True

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"fastloss {release}"
html_static_path = ["_static"]
html_css_files = ["fastloss.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {page: [] for page in ("index", "changelog", "installation",
                                     "contract", "design", "performance")}

# MathJax 3 from the build's own _static: the default URL is a CDN
mathjax_path = "mathjax/tex-chtml.js"
_MATHJAX_PARTS = ("tex-chtml.js", "input", "output/chtml.js", "output/chtml",
                  "ui", "a11y", "adaptors")


def _mathjax_source() -> str:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('MathJax is served locally from the "sphinx-mathjax-offline" '
                           'package: pip install ".[docs]"')
    return os.path.join(list(spec.submodule_search_locations)[0], "static", "mathjax")


def _copy_mathjax(app, exc):
    """Copy the parts of MathJax 3 that tex-chtml.js loads into _static/mathjax."""
    if exc is not None or app.builder.format != "html":
        return
    src = _mathjax_source()
    dst = os.path.join(app.outdir, "_static", "mathjax")
    for part in _MATHJAX_PARTS:
        s, d = os.path.join(src, part), os.path.join(dst, part)
        if not os.path.exists(s):
            continue
        if os.path.isdir(s):
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif not os.path.exists(d) or os.path.getmtime(d) < os.path.getmtime(s):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)


# -- Every public name is in the API reference --------------------------------

API_MODULES = ("fastloss", "fastloss.book", "fastloss.reference", "fastloss.dask")
_HERE = os.path.dirname(os.path.abspath(__file__))


def documented_names() -> set[str]:
    """Fully qualified names that the pages of api/ document (autosummary
    entries and ``.. data::``/``.. module::`` directives)."""
    names = set()
    for fname in sorted(os.listdir(os.path.join(_HERE, "api"))):
        if not fname.endswith(".rst"):
            continue
        with open(os.path.join(_HERE, "api", fname), encoding="utf-8") as f:
            text = f.read()
        module = None
        for line in text.splitlines():
            m = re.match(r"\.\. (?:currentmodule|module|py:module)::\s*(\S+)", line)
            if m:
                module = m.group(1)
                if line.startswith(".. module") or line.startswith(".. py:module"):
                    names.add(module)
                continue
            m = re.match(r"\.\. (?:py:)?data::\s*(\S+)", line)
            if m and module:
                names.add(f"{module}.{m.group(1)}")
                continue
            m = re.match(r"   (~?)([A-Za-z_][\w.]*)\s*$", line)
            if m and module and not line.strip().startswith(":"):
                names.add(f"{module}.{m.group(2)}")
    return names


def _check_api_complete(app, config):
    missing = []
    documented = documented_names()
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            if f"{modname}.{name}" not in documented:
                missing.append(f"{modname}.{name}")
    if missing:
        from sphinx.util import logging
        logging.getLogger(__name__).warning(
            "public names missing from docs/api/*.rst (add them to an autosummary "
            "table): %s", ", ".join(missing))


def setup(app):
    app.connect("config-inited", _check_api_complete)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True}
