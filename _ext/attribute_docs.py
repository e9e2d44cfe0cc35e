"""Keep the docstring of a constant, field or property whole on the API page.

Napoleon reads the first line of an attribute's docstring as ``type: description`` when it holds a
colon, so ``#: The methods compared in the chapter: name -> (runner, family).`` became a "Type"
field reading "The methods compared in the chapter". The library's comments on constants and fields
and its property docstrings never state a type that way (the types are in the code), and they have
no numpydoc sections, so this extension hands Napoleon's result for module data, attributes and
properties back as it was written: it keeps each such docstring before Napoleon runs and puts it
back afterwards.
"""
from __future__ import annotations

_KINDS = ("attribute", "data", "property")
_KEPT = "_attribute_docs_kept"


def _keep(app, what, name, obj, options, lines):
    if what in _KINDS:
        getattr(app, _KEPT)[what, name] = list(lines)


def _restore(app, what, name, obj, options, lines):
    kept = getattr(app, _KEPT).pop((what, name), None)
    if kept is not None:
        lines[:] = kept


def setup(app):
    setattr(app, _KEPT, {})
    # Napoleon's handler runs at the default priority, 500: one of these runs before it, one after.
    app.connect("autodoc-process-docstring", _keep, priority=400)
    app.connect("autodoc-process-docstring", _restore, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
