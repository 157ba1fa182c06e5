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

# Where each public name lives; modules load on first use (``explainer --help``
# must not pay for reading specs, let alone for SymPy).
_LAZY = {"load_spec": ".spec", "Spec": ".spec", "derive": ".derivation", "Derivation": ".derivation"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")
