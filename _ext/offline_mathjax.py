"""Serve MathJax from the book itself so that math typesets with no internet connection.

``make mathjax`` unpacks the MathJax 3 ``es5`` bundle (from the npm registry) into
``_static/mathjax``. When that folder is present, this extension points Sphinx's ``mathjax_path``
at it; when it is absent (for example a plain ``jupyter-book build .`` without npm), the book falls
back to Sphinx's default CDN copy and says so once in the build log.
"""

from pathlib import Path

from sphinx.util import logging

LOCAL_BUNDLE = "mathjax/tex-chtml-full.js"
logger = logging.getLogger(__name__)


def _use_local_mathjax(app, config):
    bundle = Path(app.confdir) / "_static" / LOCAL_BUNDLE
    if bundle.is_file():
        config.mathjax_path = LOCAL_BUNDLE
    else:
        logger.info("offline_mathjax: %s not found; MathJax will load from a CDN", bundle)


def setup(app):
    app.connect("config-inited", _use_local_mathjax, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
