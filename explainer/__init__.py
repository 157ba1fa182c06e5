"""explainer: complete, step-by-step backpropagation derivations.

    >>> import explainer
    >>> d = explainer.derive()                  # the built-in example
    >>> d.values["out_h1"]                      # doctest: +SKIP
    >>> print(d.to_markdown())                  # doctest: +SKIP
    >>> explainer.check("out_h1 = 0.5933", d)   # doctest: +SKIP

The public API is this module's ``__all__``; everything else is importable
from its stage's sub-package (``explainer.spec``, ``.maths``, ``.outputs``,
``.grading``, ``.exercises``, ``.integrations``) but not promised.  The heavy
parts (SymPy, numpy) load on first use, so ``explainer --help`` starts at once.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load_spec", "derive", "check", "exercise", "Derivation", "Spec", "SpecError", "ExplainerError",
           "__version__"]

from .spec.errors import ExplainerError, SpecError

# Where each public name lives; modules load on first use (``explainer --help``
# must not pay for reading specs, let alone for SymPy).
_LAZY = {"load_spec": ".spec.reading", "Spec": ".spec.reading",
         "derive": ".integrations.jupyter", "Derivation": ".integrations.jupyter"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")


def check(answers: str, derivation=None, source: str = "<answers>"):
    """Every claim of an answer sheet (its text) judged against ``derivation``
    (by default the built-in example's): a tuple of verdicts, in sheet order."""
    from .grading.check import check_answers

    return check_answers(answers, __getattr__("derive")() if derivation is None else derivation, source)


def exercise(spec=None, student: str = "1", seed: str | int = 1, *, decimals: int | None = None,
             digits: int | None = None, formats=("markdown", "latex"), detail: str = "full",
             tolerance=None) -> dict[str, str]:
    """One student's exercise: the variant of ``spec`` drawn for ``student`` from
    ``seed``, as files by their path inside an exercise folder (the question
    sheets, the worked solutions with their figures and the answer key).
    ``"moodle"`` among ``formats`` adds ``moodle/quiz.xml``, the student's Moodle
    questions, whose answers accept the relative ``tolerance`` (a Decimal or
    text such as ``"1%"``) where it is wider than the key's rounding."""
    from .exercises.sheets import student_files
    from .exercises.variants import nice_variant
    from .outputs.formatting import NumberFormat

    number_format = NumberFormat(digits=digits) if digits is not None else NumberFormat(
        decimals=9 if decimals is None else decimals)
    spec = spec if isinstance(spec, __getattr__("Spec")) else __getattr__("load_spec")(spec)
    variant = nice_variant(spec, seed, student, number_format)
    files = student_files(variant, number_format, tuple(f for f in formats if f != "moodle"), detail)
    if "moodle" in formats:
        from .exercises.moodle import QUIZ, moodle_category, moodle_quiz
        from .grading.tolerance import read_tolerance

        if isinstance(tolerance, str):
            tolerance = read_tolerance(tolerance)
        files[QUIZ] = moodle_quiz([moodle_category(variant, number_format, spec.title, tolerance)])
    return files


def load_ipython_extension(ipython) -> None:
    """``%load_ext explainer``: the ``%%explainer`` cell magic and the ``%explainer`` line magic."""
    from .integrations.jupyter import register_magics

    register_magics(ipython)
