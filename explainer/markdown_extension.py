"""The name ``markdown_extensions: [explainer.markdown_extension]`` has always
had; the extension is ``explainer.integrations.markdown_extension``."""

from .integrations.markdown_extension import ExplainerExtension, makeExtension

__all__ = ["ExplainerExtension", "makeExtension"]
