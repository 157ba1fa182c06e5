"""The exceptions of explainer.

Errors a user can cause (a bad spec, an unreadable file, a bad option) are
``ExplainerError``s: the command line prints their one-line message and exits
with status 2.  ``DerivationMismatch`` is not one of them: it means two ways
of computing the same derivative disagree, which is a bug in explainer.
"""

from __future__ import annotations


class ExplainerError(Exception):
    """An error the user can fix; ``str(error)`` is one line."""


class SpecError(ExplainerError):
    """A spec that cannot be used: names the source, the field and what was expected."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        # Rebuilt from its three parts when it crosses from a worker process.
        return type(self), (self.source, self.field, self.message)


class AnswersError(ExplainerError):
    """An answer sheet that cannot be checked (no claims in it); names the file."""


class ExerciseError(ExplainerError):
    """An exercise that cannot be made or graded: a bad roster, a shape with no nice variant, a bad key."""


class DerivationMismatch(AssertionError):
    """Two computations of the same derivative disagree (a bug, never the user's fault)."""


# A message quotes at most this many characters of a value the user gave.
QUOTED_LENGTH = 80


def quoted(value: str, limit: int = QUOTED_LENGTH) -> str:
    """``value`` quoted for a one-line message: escaped like ``repr``, cut to about ``limit`` characters."""
    shown = value if len(value) <= limit else value[: limit - 3] + "..."
    return repr(shown)
