"""explainer: complete, step-by-step backpropagation derivations.

    >>> import explainer
    >>> d = explainer.derive()          # the built-in example
    >>> d.values["out_h1"]              # doctest: +SKIP
    >>> print(d.to_markdown())          # doctest: +SKIP

The heavy parts (SymPy, numpy) load on first use, so ``explainer --help``
starts at once.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load_spec", "derive", "Derivation", "Spec", "SpecError", "ExplainerError", "__version__"]

from .errors import ExplainerError, SpecError
from .spec import Spec, load_spec


def __getattr__(name: str):
    if name in ("derive", "Derivation"):
        import importlib

        return getattr(importlib.import_module(".derivation", __name__), name)
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")
