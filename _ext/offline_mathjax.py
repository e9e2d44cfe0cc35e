"""Serve MathJax from the book itself so that math typesets with no internet connection.

``make mathjax`` unpacks the MathJax 3 ``es5`` bundle (from the npm registry) into
``_mathjax/mathjax``. When it is there, this extension adds ``_mathjax`` to Sphinx's static paths
(so the bundle is copied to ``_static/mathjax`` in the output, where the combined file finds its
fonts and lazily loaded parts) and points ``mathjax_path`` at the one combined file
``tex-chtml-full.js``: every page loads a single MathJax script.

The bundle is deliberately not kept under ``_static``: Jupyter Book adds every ``.js`` file found
there to every page, which loaded about 70 MathJax scripts per page, several of them full MathJax
builds that clash ("State CONTEXT_MENU already exists"). When the folder is absent (a plain
``jupyter-book build .`` without npm), the book falls back to Sphinx's default CDN copy and says so
once in the build log.
"""

from pathlib import Path

from sphinx.util import logging

BUNDLE_DIR = "_mathjax"
LOCAL_BUNDLE = "mathjax/tex-chtml-full.js"
logger = logging.getLogger(__name__)


def _use_local_mathjax(app, config):
    root = Path(app.confdir) / BUNDLE_DIR
    if (root / LOCAL_BUNDLE).is_file():
        config.html_static_path = [*config.html_static_path, str(root)]
        config.mathjax_path = LOCAL_BUNDLE
    else:
        logger.info("offline_mathjax: %s not found; MathJax will load from a CDN", root / LOCAL_BUNDLE)


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of each script: the same inline thebe settings are added twice (once with no
    file name, once with an empty one), and the second ``const THEBE_JS_URL`` is a syntax error in
    the reader's console."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("config-inited", _use_local_mathjax, priority=900)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.1"}
