"""``python -m explainer``: the same as the ``explainer`` command."""

from .cli import run

run()
