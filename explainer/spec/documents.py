"""Parsing TOML and JSON text that a user wrote, with every failure one ``ValueError`` of one line.

The standard parsers fail in ways that are not ``ValueError``s, or whose
message is not for a user: arrays nested a thousand deep exhaust Python's
recursion (``RecursionError``), and an integer of more than 4,300 digits
trips Python's guard on converting long digit strings (a ``ValueError`` that
suggests ``sys.set_int_max_str_digits``).  Both are turned into
``DocumentError`` here, so every reader of a user's file (specs, answer
sheets, answer keys) reports them as it reports a syntax error.
"""

from __future__ import annotations

import json
import sys
import tomllib
from typing import Any, Callable


class DocumentError(ValueError):
    """Text that is not a readable TOML or JSON document; ``str(error)`` is one line for the user."""


def _too_long_number() -> str:
    return f"a number with more than {sys.get_int_max_str_digits():,} digits"


def load_toml(text: str, **options) -> Any:
    """``tomllib.loads(text, **options)``; any failure is a ``DocumentError`` ("invalid TOML: …")."""
    try:
        return tomllib.loads(text, **options)
    except tomllib.TOMLDecodeError as err:
        raise DocumentError(f"invalid TOML: {err}") from None
    except RecursionError:
        raise DocumentError("invalid TOML: arrays or tables nested too deeply") from None
    except ValueError:
        raise DocumentError(f"invalid TOML: {_too_long_number()}") from None


def load_json(text: str, on_error: Callable[[json.JSONDecodeError], str] | None = None, **options) -> Any:
    """``json.loads(text, **options)``; any failure is a ``DocumentError`` ("invalid JSON: …").

    ``on_error`` words a syntax error (default: its message with line and column).
    Exceptions raised by the caller's hooks (``object_pairs_hook``, …) pass through.
    """
    try:
        return json.loads(text, **options)
    except json.JSONDecodeError as err:
        said = on_error(err) if on_error else f"{err.msg} (line {err.lineno}, column {err.colno})"
        raise DocumentError(f"invalid JSON: {said}") from None
    except RecursionError:
        raise DocumentError("invalid JSON: arrays or objects nested too deeply") from None
    except ValueError as err:
        if type(err) is not ValueError:  # a subclass: the caller's own hook raised it
            raise
        raise DocumentError(f"invalid JSON: {_too_long_number()}") from None
