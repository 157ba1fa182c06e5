"""The command line: ``explainer render``, ``values``, ``check``, ``exercise`` and ``examples``.

Thin on purpose: it parses arguments, reads the spec, calls the pure
functions and writes a run's files all or none (``explainer.writing``).  User errors print one line and exit
with status 2.  SymPy and numpy are imported only by the commands that need
them, so ``--help`` and ``--version`` start at once.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import sys

from . import __version__
from .processes import in_processes
from .spec.errors import ExplainerError
from .spec.vocabulary import COLUMNS, PAPERS

FORMATS = ("markdown", "latex", "html", "pdf", "values-tex", "beamer", "slides", "revealjs")
# --format all: the cheap ones.  A PDF needs TeX, and HTML's MathML conversion
# would make the default run noticeably slower: both are asked for by name.
ALL = ("markdown", "latex")
FLAVORS = ("commonmark", "github", "mkdocs", "myst", "pandoc")
CHECK_FORMATS = ("text", "markdown", "json", "gradescope")
SPEC_HELP = "a .toml or .json network spec, or the name of a shipped example (see explainer examples)"
SUFFIXES = {"markdown": ".md", "latex": ".tex", "html": ".html", "pdf": ".pdf", "values-tex": "-values.tex",
            "beamer": "-slides.tex", "slides": "-slides.pdf", "revealjs": "-slides.html"}
ASPECTS = ("16:9", "4:3")
DEFAULT_OUTPUT = "output"
EXERCISE_FORMATS = ("markdown", "latex")
DEFAULT_EXERCISES = "exercises"
VERSION = f"explainer {__version__}"


@functools.cache
def _parser_class():
    """argparse's parser, made on first use (``explainer --version`` does without argparse): a usage error
    is one line (and status 2, as argparse has it), and the help is as wide as the terminal."""
    import argparse

    class Formatter(argparse.HelpFormatter):
        """The terminal's width measured as ``shutil.get_terminal_size`` does, without importing shutil
        (and its compression modules) at every start."""

        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            if width is None:
                width = _terminal_columns() - 2
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            # No abbreviations: argparse would otherwise take --form for --format, and --not for --notation.
            kwargs.setdefault("allow_abbrev", False)
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str):
            self.exit(2, f"{self.prog}: error: {message}\n")

    return Parser


def _terminal_columns() -> int:
    """$COLUMNS when it is a positive number, else the width of standard output's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


_NOTATION_HELP = ("the course's notation: source (the default), nielsen, deeplearning-ai or bishop; "
                  "replaces the spec's preset, its own overrides kept")
_FORM_HELP = ("how the backwards pass is written: chain (the chain rule, the default), delta (then each error "
              "signal and gradient by the delta rule), matrix (then the round with vectors and matrices) or all")


def _notated(spec, args):
    """``spec`` in the notation and form given on the command line, if any."""
    notation, form = getattr(args, "notation", None), getattr(args, "form", None)
    if notation is None and form is None:
        return spec
    from .spec.reading import with_notation

    return with_notation(spec, notation, form)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _type_error(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 30:
        raise _type_error(f"expected a number from 0 to 30, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise _type_error("expected at least 1 significant digit")
    return value


def _tolerance(text: str):
    from .grading.tolerance import read_tolerance

    try:
        return read_tolerance(text)
    except ValueError as error:
        raise _type_error(str(error)) from None


def _share(text: str):
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _type_error(f"expected a number from 0 to 1, got {text!r}") from None
    if not (value.is_finite() and 0 <= value <= 1):
        raise _type_error(f"expected a number from 0 to 1, got {text}")
    return value


def _seed(text: str) -> str:
    if not text:
        raise _type_error("expected a seed of at least one character (any text; keep it to yourself)")
    return text


def _type_error(message: str) -> Exception:
    import argparse

    return argparse.ArgumentTypeError(message)


def _boolean_option():
    import argparse

    return argparse.BooleanOptionalAction


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``only``, the arguments of that command alone.

    The other commands are still there, with their names, help and
    descriptions, so that ``explainer --help`` and a mistyped command read the
    same; ``main`` builds the arguments of the command it runs and no other's.
    """
    parser_class = _parser_class()
    parser = parser_class(
        prog="explainer",
        description="Write complete, step-by-step backpropagation derivations.",
        epilog="Without SPEC every command uses the built-in example (the classic 2-2-2 sigmoid network); "
               "SPEC may also name a shipped example (explainer examples lists them).",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=parser_class)
    for name, (arguments, options) in COMMANDS.items():
        if only is None or only == name:
            arguments(commands.add_parser(name, **options))
        else:
            # Its name and help for the list of commands; its own options, help included, are not read.
            commands.add_parser(name, add_help=False, **options)
    return parser


def _command_of(argv: list[str]) -> str:
    """The command ``argv`` runs: its first word that is no option (the program's own options take no
    value), or "" when there is none."""
    return next((word for word in argv if not word.startswith("-")), "")


def _render_arguments(render) -> None:
    render.add_argument("spec", nargs="?", metavar="SPEC", help=SPEC_HELP)
    render.add_argument("--format", choices=(*FORMATS, "all"), default="all",
                        help="what to write (default: all, i.e. Markdown, with its figures as SVG files beside it, "
                             "and LaTeX); html is one self-contained page with MathML; pdf compiles the LaTeX "
                             "with latexmk; values-tex writes \\expval macros; beamer writes Beamer slides "
                             "(NAME-slides.tex), slides compiles them (NAME-slides.pdf); revealjs writes the same "
                             "slides as one reveal.js page that needs no network (NAME-slides.html)")
    render.add_argument("--flavor", choices=FLAVORS,
                        help="the Markdown's dialect: commonmark (the default: $$ math, as the source), "
                             "github (display math in ```math fences), mkdocs (pymdownx.arithmatex), "
                             "myst (dollarmath and amsmath) or pandoc")
    render.add_argument("--output", metavar="PATH",
                        help="the file to write, or - for standard output; with --format all a directory "
                             f"(default: {DEFAULT_OUTPUT}/NAME.md, NAME-network.svg, NAME-loss.svg and NAME.tex)")
    digits = render.add_mutually_exclusive_group()
    digits.add_argument("--decimals", type=_non_negative, default=9, metavar="N",
                        help="round shown values to N decimal places (default: 9)")
    digits.add_argument("--digits", type=_positive, metavar="N", help="round shown values to N significant digits")
    render.add_argument("--detail", choices=("source", "full"), default="source",
                        help="source: the first neuron and weight of each kind in full, the rest stated "
                             "(as the source does); full: every one in full")
    render.add_argument("--notation", metavar="NAME", help=_NOTATION_HELP)
    render.add_argument("--form", metavar="FORM", help=_FORM_HELP)
    handout = render.add_argument_group("handout", "the title block and the LaTeX/PDF layout; "
                                        "each replaces the spec's own setting")
    for field in ("title", "author", "course", "date"):
        handout.add_argument(f"--{field}", metavar="TEXT", help=f"the document's {field}")
    handout.add_argument("--paper", choices=PAPERS, help="the paper size (default: a4)")
    handout.add_argument("--equation-numbers", action=_boolean_option(), default=None,
                         help="number the displayed equations (default: no)")
    handout.add_argument("--columns", type=int, choices=COLUMNS,
                         help="2: the compact two-column layout for long derivations (default: 1)")

    render.add_argument("--aspect", choices=ASPECTS, default="16:9",
                        help="the slides' aspect ratio, with --format beamer, slides or revealjs (default: 16:9)")



def _values_arguments(values) -> None:
    values.add_argument("spec", nargs="?", metavar="SPEC", help=SPEC_HELP)


def _check_arguments(check) -> None:
    check.add_argument("answers", metavar="ANSWERS",
                       help="the answers: plain keys, LaTeX, Markdown, TOML or JSON; - for standard input; "
                            "or a folder of sheets named after the students (alice.txt, …) for a class summary as CSV")
    check.add_argument("--spec", metavar="SPEC", help="the network spec the answers are for, a file or an example's name (default: the built-in example); "
                                                      "with --seed, the spec the exercise was made from")
    check.add_argument("--format", choices=CHECK_FORMATS,
                       help="text: a table for the terminal (default); markdown: for feedback; json: for autograders; "
                            "gradescope: Gradescope's autograder results.json, one test per asked quantity")
    check.add_argument("--notation", metavar="NAME",
                       help="the notation the answers are written in, as well as the keys: " + _NOTATION_HELP.split(": ", 1)[1]
                            + " (default: the spec's)")
    variant = check.add_argument_group("exercises", "grade against a student's own variant (see explainer exercise)")
    variant.add_argument("--key", metavar="KEY", help="the student's answer key (keys/ID.json), which holds their network")
    variant.add_argument("--student", metavar="ID", help="the student whose variant to rebuild, with --seed")
    variant.add_argument("--seed", type=_seed, metavar="SEED", help="the seed the exercise was made with")
    variant.add_argument("--keys", metavar="DIR", help="for a folder of sheets: the folder of answer keys")
    variant.add_argument("--output", metavar="FILE", help="for a folder of sheets: write the CSV here (default: standard output)")
    policy = check.add_argument_group("grading policy", "what an answer must show to be correct")
    precision = policy.add_mutually_exclusive_group()
    precision.add_argument("--decimals", type=_non_negative, metavar="N",
                           help="the least precision an answer must show: N decimal places (fewer is 'too few digits'); "
                                "with --seed also the precision the exercise asked for (default there: 9); "
                                "with --key the key's own precision is the default")
    precision.add_argument("--digits", type=_positive, metavar="N",
                           help="the same in significant digits")
    policy.add_argument("--tolerance", type=_tolerance, metavar="R",
                        help="a relative error any answer may have and still be correct: 0.01 or 1%% (default: none)")
    policy.add_argument("--points", metavar="FILE",
                        help="points per quantity, a TOML or JSON table key → points (default: one point each); "
                             "for --format gradescope and the class summary")
    policy.add_argument("--carried-forward-credit", type=_share, default=None, metavar="X",
                        help="the share of a quantity's points a carried-forward answer earns (default: 1)")
    policy.add_argument("--rounding-credit", type=_share, default=None, metavar="X",
                        help="the share of a quantity's points a rounding answer earns (default: 1)")
    _class_options(check, "sheets")


def _exercise_arguments(exercise) -> None:
    exercise.add_argument("spec", nargs="?", metavar="SPEC", help=f"{SPEC_HELP}: the shape to vary")
    students = exercise.add_mutually_exclusive_group(required=True)
    students.add_argument("--students", metavar="ROSTER", help="a text file with one student id per line")
    students.add_argument("--count", type=int, metavar="N", help="N students, numbered 1 to N (zero-padded)")
    exercise.add_argument("--seed", required=True, type=_seed, metavar="SEED",
                          help="any text; keep it to yourself: with it the numbers can be drawn again")
    exercise.add_argument("--output", metavar="DIR", default=DEFAULT_EXERCISES,
                          help=f"the folder to write into (default: {DEFAULT_EXERCISES})")
    exercise.add_argument("--format", choices=(*EXERCISE_FORMATS, "moodle", "all"), action="append", metavar="FORMAT",
                          help="what to write besides the keys, one of markdown, latex, moodle or all; may be given "
                               "more than once (default: all, i.e. Markdown and LaTeX); moodle writes "
                               "DIR/moodle/quiz.xml, a Moodle XML question bank of every student's numerical questions")
    digits = exercise.add_mutually_exclusive_group()
    digits.add_argument("--decimals", type=_non_negative, metavar="N",
                        help="ask for results to N decimal places (default: 9)")
    digits.add_argument("--digits", type=_positive, metavar="N", help="ask for results to N significant digits")
    exercise.add_argument("--tolerance", type=_tolerance, metavar="R",
                          help="with --format moodle: a relative error any answer may have and still be correct, "
                               "0.01 or 1%% (default: half a unit in the last digit asked for)")
    exercise.add_argument("--detail", choices=("source", "full"), default="full",
                          help="of the worked solutions: full (the default), every step in full; source: as the source")
    exercise.add_argument("--notation", metavar="NAME", help=_NOTATION_HELP)
    exercise.add_argument("--form", metavar="FORM", help=_FORM_HELP + " (of the worked solutions)")
    _class_options(exercise, "students")


def _examples_arguments(examples) -> None:
    examples.add_argument("name", nargs="?", metavar="NAME", help="the example to print, as the list names it")


# Each command: the function that adds its arguments, and its name's help and description.
COMMANDS = {
    "render": (_render_arguments, {"help": "write the derivation as Markdown, LaTeX, HTML or PDF"}),
    "values": (_values_arguments, {"help": "print every quantity of the derivation as JSON"}),
    "check": (_check_arguments, {
        "help": "check numbers worked out by hand, line by line",
        "description": "Check the numbers (and formulas) of an answer sheet against the derivation. "
                       "Exit status: 0 when every claim is correct or off only by rounding, 1 when any is not, "
                       "2 when the answers or the spec cannot be read."}),
    "exercise": (_exercise_arguments, {
        "help": "write per-student exercise sheets, worked solutions and answer keys",
        "description": "Draw a variant of the network with fresh two-decimal numbers for each student, deterministic "
                       "from the seed and the student id, and write DIR/questions/ID.md and .tex (the sheet to hand "
                       "out), DIR/solutions/ID.md and .tex (the worked solution) and DIR/keys/ID.json (the answer key "
                       "explainer check grades with)."}),
    "examples": (_examples_arguments, {
        "help": "list the shipped example specs, or print one",
        "description": "Without NAME, list the shipped examples, one line each. With NAME, print that example "
                       "(explainer examples xor > xor.toml). Every command that takes a SPEC also takes an "
                       "example's name (explainer render xor); a file of that name wins."}),
}


def _class_options(parser, what: str) -> None:
    parser.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                        help=f"work on N {what} at once, in N processes (default: the machine's cores); "
                             "the output is the same for every N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless "
                                                              "standard error is a terminal)")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _type_error(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise _type_error(f"expected at least 1 process, got {value}")
    return value


def _render(args) -> int:
    from .spec.limits import check_size
    from .spec.reading import load_spec, with_overrides

    formats = ALL if args.format == "all" else (args.format,)
    if args.flavor and "markdown" not in formats:
        raise ExplainerError(f"--flavor applies to Markdown, and --format {args.format} writes none")
    _refuse(args.output == "", "--output: expected a file or folder name, got an empty one")
    spec = with_overrides(load_spec(args.spec), _handout_options(args))
    check_size(spec, "render")  # before the derivation, whose work grows with the size
    spec = _notated(spec, args)
    first_pass = _first_pass(spec, formats, args.aspect)
    try:
        # Imported once TeX has started: it loads its packages while SymPy is imported.
        from . import derive

        derivation = derive(spec)
        options = {"decimals": args.decimals, "digits": args.digits, "detail": args.detail}
        to_stdout = args.output == "-"
        # Render everything before writing anything, so a failure leaves no partial output.
        documents = []
        for fmt in formats:
            path = None if to_stdout else _output_path(args.output, derivation.spec.name, fmt, len(formats) > 1)
            documents.append((path, *_document(derivation, fmt, path, options, args.flavor, args.aspect, first_pass)))
    finally:
        if first_pass is not None:
            first_pass.cancel()
    if to_stdout:
        # Only the documents: the figures a Markdown document refers to need a directory to live in.
        for _, content, _ in documents:
            if isinstance(content, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(content)
            else:
                sys.stdout.write(content)
        return 0
    files = {where: what for path, content, figures in documents for where, what in ((path, content), *figures.items())}
    _write_and_list(files)
    return 0


def _write_and_list(files: dict) -> None:
    """Write every file or none, then print their paths."""
    from .writing import write_all

    write_all(files)
    for path in files:
        print(path)


def _handout_options(args) -> dict:
    """The spec fields given on the command line (see ``spec.with_overrides``)."""
    given = {"title": args.title, "author": args.author, "course": args.course, "date": args.date,
             "handout.paper": args.paper, "handout.equation_numbers": args.equation_numbers,
             "handout.columns": args.columns}
    return {field: value for field, value in given.items() if value is not None}


def _first_pass(spec, formats, aspect: str):
    """For a PDF, TeX's first pass, started on the preamble while the derivation is worked out."""
    if formats not in (("pdf",), ("slides",)):
        return None
    from .outputs.pdf import start_first_pass
    from .outputs.preamble import TitleText, document_preamble, slides_preamble

    first_pass = start_first_pass(TitleText(spec).engine)
    if first_pass is not None:
        try:
            first_pass.begin(document_preamble(spec) if formats == ("pdf",) else slides_preamble(spec, aspect))
        except BaseException:
            first_pass.cancel()
            raise
    return first_pass


def _document(derivation, fmt: str, path, options: dict, flavor: str | None,
              aspect: str = "16:9", first_pass=None) -> tuple[str | bytes, dict]:
    """One format's document, and the figures to write beside it (Markdown's SVG files, by path)."""
    from .outputs.render import render, render_with_figures

    if fmt == "markdown":
        prefix = path.stem if path is not None else None
        text, figures = render_with_figures(derivation, "markdown", figure_prefix=prefix, flavor=flavor, **options)
        return text, {} if path is None else {path.parent / name: svg for name, svg in figures.items()}
    if fmt in ("latex", "html"):
        return render(derivation, fmt, **options), {}
    if fmt == "beamer":
        from .outputs.slides import render_slides

        return render_slides(derivation, aspect, **options), {}
    if fmt == "revealjs":
        from .outputs.revealjs import render_revealjs

        return render_revealjs(derivation, aspect, **options), {}
    if fmt in ("pdf", "slides"):
        from .outputs.pdf import compile_pdf
        from .outputs.slides import render_slides

        tex = derivation.to_latex(**options) if fmt == "pdf" else render_slides(derivation, aspect, **options)
        pdf, report = compile_pdf(tex, first_pass)
        name = path.name if path is not None else "the PDF"
        for problem in report.problems():
            print(f"explainer: warning: {name}: {problem}", file=sys.stderr)
        return pdf, {}
    from .outputs.macros import values_tex

    return values_tex(derivation, decimals=options["decimals"], digits=options["digits"]), {}


def _output_path(output: str | None, name: str, fmt: str, several: bool):
    from pathlib import Path

    if output is None:
        return Path(DEFAULT_OUTPUT) / f"{name}{SUFFIXES[fmt]}"
    # A name ending in a slash, or an existing folder, is the folder to write into.
    if several or output.endswith(("/", os.sep)) or os.path.isdir(output):
        return Path(output) / f"{name}{SUFFIXES[fmt]}"
    return Path(output)


def _values(args) -> int:
    import json

    from . import load_spec
    from .maths.derivation import values_of

    floats = {key: float(value) for key, value in values_of(load_spec(args.spec)).items()}
    # JSON has no infinity or NaN (a diverged training run): those are null.
    values = {key: value if math.isfinite(value) else None for key, value in floats.items()}
    print(json.dumps(values, indent=2, allow_nan=False))
    return 0


def _check(args) -> int:
    if args.answers != "-" and os.path.isdir(args.answers):
        return _check_class(args)
    _refuse(args.output or (args.keys and not args.key),
            "--keys and --output are for a folder of sheets; ANSWERS is one sheet "
            "(with --key, --keys DIR looks for a classmate's numbers on it)")
    _refuse(args.jobs, "--jobs is for a folder of sheets; ANSWERS is one sheet")
    source = "<stdin>" if args.answers == "-" else args.answers
    text = _answers_text(args.answers, source)
    if not (args.key or args.spec or args.student or args.seed) and _is_answer_key(text):
        args.key = args.answers  # an answer key, checked against its own network
    derivation, against, precision, asked = _graded_against(args, text)
    from .grading.check import Policy, check_answers, with_missing
    from .grading.report import exit_status, report

    verdicts = check_answers(text, derivation, source, Policy(precision, args.tolerance))
    if args.keys:
        own = _answer_key(args.key) if args.key != args.answers else _read_key(text, args.key)
        verdicts, _ = _classmates(_key_specs(args.keys, {})).mark(own.student, verdicts)
    fmt = args.format or "text"
    if fmt == "gradescope":
        from .grading.gradebook import gradescope
        from .grading.report import rows_for

        asked = asked or _asked(derivation)
        scoring = _scoring(args, asked)
        sys.stdout.write(gradescope(verdicts, asked, scoring, rows_for(verdicts)))
        return exit_status(with_missing(verdicts, derivation, asked))
    _refuse(args.points, "--points is for --format gradescope and the class summary")
    if asked:
        verdicts = with_missing(verdicts, derivation, asked)
    color = fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(report(verdicts, fmt, answers=source, spec=against, color=color))
    return exit_status(verdicts)


def _is_answer_key(text: str) -> bool:
    """Whether ``text`` is an answer key of ``explainer exercise`` (a JSON object with an ``exercise`` member)."""
    from .grading.answers import KEY_DESCRIPTION
    from .spec.documents import DocumentError, load_json

    if not text.lstrip("\ufeff \t\r\n").startswith("{"):
        return False
    try:
        document = load_json(text.removeprefix("\ufeff"))
    except (DocumentError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get(KEY_DESCRIPTION), dict)


def _graded_against(args, key_text: str):
    """The derivation a sheet is checked against, the words that name it, the least precision an answer
    must show (None: any), and the quantities asked for (empty: whatever the sheet gives).
    ``key_text``, the sheet, tells whether the long training run is graded at all."""
    from .grading.check import graded_spec
    from .spec.reading import load_spec

    spec_name = args.spec or "the built-in example"
    asked_precision = _number_format(args) if args.decimals is not None or args.digits is not None else None
    if args.key:
        _refuse(args.spec or args.student or args.seed, "--key holds the student's own network; "
                                                        "give --key, or --student and --seed (with --spec)")
        key = _read_key(key_text, args.key) if args.key == args.answers else _answer_key(args.key)
        derivation = _derived(graded_spec(_notated(key.spec, args), key_text))
        return derivation, f"{args.key} (student {key.student})", asked_precision or key.number_format, _asked(derivation)
    if args.student or args.seed:
        _refuse(not (args.student and args.seed), "--student and --seed go together: the variant of that student")
        from .exercises.roster import checked_id
        from .exercises.variants import nice_variant

        student = checked_id(args.student, "--student")
        number_format = _number_format(args)
        spec = _notated(load_spec(args.spec), args)
        variant = nice_variant(spec, args.seed, student, number_format)
        if key_text is not None and args.decimals is None and args.digits is None:
            _refuse_other_precision(args, key_text)
        return (variant.derivation, f"student {student}'s variant of {spec_name} (seed {args.seed}, {_precision_words(number_format)})",
                number_format, _asked(variant.derivation))
    return _derived(graded_spec(_notated(load_spec(args.spec), args), key_text)), spec_name, asked_precision, ()


def _scoring(args, asked):
    """The points per quantity and the credits, from the command line."""
    from decimal import Decimal

    from .grading.gradebook import Scoring

    points = {}
    if args.points:
        points = _points_file(args.points, asked)
    credits = {name: value for name, value in (("carried_forward", args.carried_forward_credit),
                                               ("rounding", args.rounding_credit)) if value is not None}
    return Scoring(points=points, default=Decimal(1), **credits)


def _points_file(path: str, asked) -> dict:
    import json
    import tomllib
    from decimal import Decimal, InvalidOperation

    text = _answers_text(path, path)
    try:
        table = json.loads(text, parse_float=Decimal, parse_int=Decimal) if path.endswith(".json") else \
            tomllib.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise ExplainerError(f"{path}: not a table of points: {error}") from None
    if not isinstance(table, dict):
        raise ExplainerError(f"{path}: expected a table of quantity → points")
    points = {}
    for key, value in table.items():
        if key not in asked:
            raise ExplainerError(f"{path}: {key}: not a quantity the sheet is asked for")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal(-1)
        if isinstance(value, bool) or not number.is_finite() or number < 0:
            raise ExplainerError(f"{path}: {key}: expected a number of points (0 or more), got {value!r}")
        points[key] = number
    return points


def _refuse_other_precision(args, text: str) -> None:
    """With --seed and no precision: refuse a sheet whose numbers mostly show other than the default
    9 decimals, rather than grade the student against a variant (and a precision) they may never have had."""
    import re
    from collections import Counter

    decimals = Counter(len(m) for m in re.findall(r"(?<![\w.])-?\d{1,40}\.(\d{1,40})\b", text))
    if not decimals:
        return
    shown, _ = decimals.most_common(1)[0]
    if shown < 9:
        raise ExplainerError(f"{args.answers}: its numbers have {shown} decimals, but no --decimals or --digits says "
                             f"what the exercise asked for, and the variant depends on it; give it "
                             f"(--decimals {shown}, or --decimals 9 if that was asked)")


def _precision_words(number_format) -> str:
    if number_format.digits is not None:
        return f"{number_format.digits} significant digits"
    return f"{number_format.decimals} decimals"


def _asked(derivation) -> tuple[str, ...]:
    from .exercises.nice import worked_by_hand

    return worked_by_hand(derivation)


def _derived(spec):
    from .outputs.document import derive

    return derive(spec)


def _check_class(args) -> int:
    """Grade a folder of sheets, each against its student's variant; write the class summary as CSV."""
    _refuse(args.format, "a class summary is CSV; --format is for one sheet")
    _refuse(args.key or args.student, "a folder of sheets is graded with --keys DIR or --seed SEED, "
                                      "not --key or --student")
    _refuse(bool(args.keys) == bool(args.seed), f"{args.answers} is a folder: grade the class with --keys DIR "
                                                 "(the answer keys) or --seed SEED (and --spec)")
    sheets = _sheets(args.answers)
    classmates = None
    if args.keys:
        _refuse(args.spec, "--keys hold each student's own network; --spec is for --seed")
        asked_precision = _number_format(args) if args.decimals is not None or args.digits is not None else None
        keys = _key_specs(args.keys, sheets)
        classmates = _classmates(keys)
        tasks = [(student, ("key", _notated(key.spec, args)), sheets.get(student), asked_precision or key.number_format,
                  args.tolerance) for student, key in keys.items()]
    else:
        from .spec.reading import load_spec

        spec, number_format = _notated(load_spec(args.spec), args), _number_format(args)
        tasks = [(student, ("seed", (spec, args.seed, number_format)), sheets[student], number_format, args.tolerance)
                 for student in sheets]
    from .grading.summary import all_passed, class_summary

    graded = []
    for result, warning in in_processes(_grade_student, tasks, args.jobs, args.quiet, "sheets"):
        if warning:
            print(warning, file=sys.stderr)
        if classmates is not None and result.verdicts is not None:
            import dataclasses

            verdicts, other = classmates.mark(result.student, result.verdicts)
            result = dataclasses.replace(result, verdicts=verdicts)
            if other is not None:
                print(f"explainer: {sheets[result.student]}: these are the numbers of student {other}'s variant",
                      file=sys.stderr)
        graded.append(result)
    asked = tuple(dict.fromkeys(key for g in graded for key in g.asked))
    scoring = _scoring(args, asked)
    table = class_summary(graded, scoring)
    if args.output is None:
        sys.stdout.write(table)
    else:
        from pathlib import Path

        from .grading.summary import class_totals

        # The totals apart, so that the summary is one row per student and nothing else.
        output = Path(args.output)
        totals = output.with_name(f"{output.stem}-totals{output.suffix or '.csv'}")
        _write_and_list({output: table, totals: class_totals(graded, scoring)})
    return 0 if all_passed(graded) else 1


def _grade_student(task):
    """One student's line of the class summary, and the warning to print for an unreadable sheet (or None).

    A student graded from their key derives only what the sheet claims (no
    long training run unless it asks for one); a variant drawn again from the
    seed is derived whole, since the rules that chose it read the training.
    """
    from .exercises.nice import worked_by_hand
    from .grading.check import Policy, check_answers, graded_spec
    from .grading.summary import Graded
    from .spec.errors import AnswersError

    student, (kind, what), path, precision, tolerance = task
    text = None if path is None else _answers_text(str(path), str(path))
    if kind == "key":
        derivation = _derived(graded_spec(what, text or ""))
    else:
        from .exercises.variants import nice_variant

        spec, seed, number_format = what
        derivation = nice_variant(spec, seed, student, number_format).derivation
    verdicts, warning = None, None
    if text is not None:
        try:
            verdicts = check_answers(text, derivation, str(path), Policy(precision, tolerance))
        except AnswersError as error:
            warning = f"explainer: {error}; every quantity counts as missing"
    return Graded(student, worked_by_hand(derivation), verdicts), warning


def _sheets(folder: str) -> dict:
    """Each student's sheet in ``folder``, by the id its name starts with (alice.txt → alice)."""
    from pathlib import Path

    from .exercises.roster import checked_id

    sheets = {}
    for path in sorted(Path(folder).iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        student = checked_id(path.name.split(".")[0], str(path))
        if student in sheets:
            raise ExplainerError(f"{path}: a second sheet for student {student}, after {sheets[student]}")
        sheets[student] = path
    return sheets


def _key_specs(folder: str, sheets: dict) -> dict:
    """Each student's variant, from the answer keys in ``folder``: one per key, whether handed in or not."""
    from pathlib import Path

    _refuse(not os.path.isdir(folder), f"{folder}: not a folder; expected the folder of answer keys (keys/)")
    keys = {}
    for path in sorted(Path(folder).glob("*.json")):
        key = _answer_key(str(path))
        if key.student in keys:
            raise ExplainerError(f"{path}: a second answer key for student {key.student}, after {keys[key.student][0]}")
        keys[key.student] = (path, key)
    for student, path in sheets.items():
        if student not in keys:
            raise ExplainerError(f"{path}: no answer key for student {student} in {folder}")
    return {student: key for student, (_, key) in keys.items()}


def _classmates(keys: dict):
    """Every student's key values, for looking up a number on another student's sheet."""
    from .grading.classmates import Classmates

    return Classmates({student: (dict(key.answers), key.number_format) for student, key in keys.items()})


def _answer_key(path: str):
    return _read_key(_answers_text(path, path), path)


def _read_key(text: str, path: str):
    from .exercises.sheets import read_key

    return read_key(text, path)


def _number_format(args):
    from .outputs.formatting import NumberFormat

    if args.digits is not None:
        return NumberFormat(digits=args.digits)
    return NumberFormat(decimals=9 if args.decimals is None else args.decimals)


def _refuse(condition, message: str) -> None:
    if condition:
        raise ExplainerError(message)


def _refuse_precision(args, why: str) -> None:
    _refuse(args.decimals is not None or args.digits is not None, f"--decimals and --digits do not apply here: {why}")


def _exercise(args) -> int:
    from pathlib import Path

    from .exercises.roster import numbered, read_roster
    from .spec.reading import load_spec

    from .spec.limits import check_size

    _refuse(args.output == "", "--output: expected a folder name, got an empty one")
    spec = _notated(load_spec(args.spec), args)
    check_size(spec, "render")  # before the variants are drawn and derived
    if args.students is not None:
        students = read_roster(_answers_text(args.students, args.students), args.students)
    else:
        students = numbered(args.count)

    number_format = _number_format(args)
    asked = args.format or ["all"]
    formats = tuple(fmt for fmt in EXERCISE_FORMATS if fmt in asked or "all" in asked)
    moodle = "moodle" in asked
    _refuse(args.tolerance is not None and not moodle, "--tolerance is for the Moodle questions (--format moodle)")
    # Draw and render every student's files before writing any, so a failure leaves no partial class.
    files, categories = {}, []
    tasks = [(spec, args.seed, student, number_format, formats, args.detail, moodle, args.tolerance)
             for student in students]
    for student_files, category in in_processes(_student_files, tasks, args.jobs, args.quiet, "students"):
        files.update(student_files)
        categories.append(category)
    if moodle:
        from .exercises.moodle import QUIZ, moodle_quiz

        files[QUIZ] = moodle_quiz(categories)
    _write_and_list({Path(args.output) / name: text for name, text in files.items()})
    return 0


def _student_files(task) -> tuple[dict[str, str], str | None]:
    """One student's files, their variant drawn, derived and written out, and their Moodle category (or None)."""
    from .exercises.sheets import student_files
    from .exercises.variants import nice_variant

    spec, seed, student, number_format, formats, detail, moodle, tolerance = task
    variant = nice_variant(spec, seed, student, number_format)
    category = None
    if moodle:
        from .exercises.moodle import moodle_category

        category = moodle_category(variant, number_format, spec.title, tolerance)
    return student_files(variant, number_format, formats, detail), category


def _examples(args) -> int:
    from .spec.examples import example, shipped_examples

    if args.name is not None:
        sys.stdout.write(example(args.name).text())
        return 0
    listed = shipped_examples()
    width = max(len(shipped.name) for shipped in listed)
    for shipped in listed:
        print(f"{shipped.name:<{width}}  {shipped.summary}".rstrip())
    return 0


def _answers_text(path: str, source: str) -> str:
    from pathlib import Path

    from .spec.errors import AnswersError

    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise AnswersError(f"{source}: cannot read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AnswersError(f"{source}: cannot read: not UTF-8 text") from None


def _parsed(argv: list[str]):
    """The arguments; one the command does not know is reported by the command's own parser, with the
    option it most likely meant (``explainer render: error: unrecognized arguments: --fromat; did you
    mean --format?``)."""
    parser = build_parser(_command_of(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = next(a for a in parser._actions if a.dest == "command").choices[args.command]
        message = f"unrecognized arguments: {' '.join(unknown)}"
        options = [option for action in command._actions for option in action.option_strings]
        import difflib

        meant = difflib.get_close_matches(unknown[0].partition("=")[0], options, n=1)
        command.error(message + (f"; did you mean {meant[0]}?" if meant and unknown[0].startswith("-") else ""))
    return args


# The exit status of a program whose reader closed standard output (128 + SIGPIPE), as Unix tools have it.
BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:
        # What argparse's version action prints, without loading argparse and building the parser.
        print(VERSION)
        return 0
    args = _parsed(argv)
    try:
        commands = {"render": _render, "values": _values, "check": _check, "exercise": _exercise,
                    "examples": _examples}
        with _cache(args.command):
            status = commands[args.command](args)
        sys.stdout.flush()  # here, so that a full disk behind standard output is reported like any other
        return status
    except BrokenPipeError:
        # The reader has gone (`explainer render | head -1`): the files are written; end quietly.
        _silence_stdout()
        return BROKEN_PIPE
    except ExplainerError as error:
        print(f"explainer: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # Without a file name it was standard output (reading files names them).
        where = error.filename or "standard output"
        print(f"explainer: error: {where}: {error.strerror or error}", file=sys.stderr)
        _silence_stdout()
        return 2


def _cache(command: str):
    """The user's cache of compiled work, for the commands that derive (see ``explainer.caching``)."""
    if command == "examples":
        return contextlib.nullcontext()
    from .caching import user_store
    from .maths.shapes import keeping

    return keeping(user_store())


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def run() -> None:
    """The ``explainer`` program: ``main`` in a process of its own, then exit."""
    try:
        status = main()
    except KeyboardInterrupt:
        # Ctrl-C: nothing is written (a run writes all of its files or none), and no traceback.
        print("explainer: interrupted", file=sys.stderr)
        status = 130
    # The process is about to end and the operating system frees its memory at
    # once; the interpreter's last garbage collections would only trace
    # SymPy's hundreds of thousands of objects again (about 70 ms).  Frozen
    # objects are left out of them.  Files are written and closed by now.
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
