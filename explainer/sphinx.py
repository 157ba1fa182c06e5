"""The name ``extensions = ["explainer.sphinx"]`` has always had; the extension
is ``explainer.integrations.sphinx``."""

from .integrations.sphinx import setup

__all__ = ["setup"]
