"""The command line: ``explainer render``, ``values``, ``check``, ``exercise`` and ``examples``.

Thin on purpose: it parses arguments, reads the spec, calls the pure
functions and writes files atomically.  User errors print one line and exit
with status 2.  SymPy and numpy are imported only by the commands that need
them, so ``--help`` and ``--version`` start at once.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys

from . import __version__
from .spec.errors import ExplainerError
from .spec.vocabulary import COLUMNS, PAPERS

FORMATS = ("markdown", "latex", "html", "pdf", "values-tex")
# --format all: the cheap ones.  A PDF needs TeX, and HTML's MathML conversion
# would make the default run noticeably slower: both are asked for by name.
ALL = ("markdown", "latex")
FLAVORS = ("github", "mkdocs", "myst", "pandoc")
CHECK_FORMATS = ("text", "markdown", "json")
SPEC_HELP = "a .toml or .json network spec, or the name of a shipped example (see explainer examples)"
SUFFIXES = {"markdown": ".md", "latex": ".tex", "html": ".html", "pdf": ".pdf", "values-tex": "-values.tex"}
DEFAULT_OUTPUT = "output"
EXERCISE_FORMATS = ("markdown", "latex")
DEFAULT_EXERCISES = "exercises"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and status 2, as argparse has it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 30:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 30, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected at least 1 significant digit")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="explainer",
        description="Write complete, step-by-step backpropagation derivations.",
        epilog="Without SPEC every command uses the built-in example (the classic 2-2-2 sigmoid network); "
               "SPEC may also name a shipped example (explainer examples lists them).",
    )
    parser.add_argument("--version", action="version", version=f"explainer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    render = commands.add_parser("render", help="write the derivation as Markdown, LaTeX, HTML or PDF")
    render.add_argument("spec", nargs="?", metavar="SPEC", help=SPEC_HELP)
    render.add_argument("--format", choices=(*FORMATS, "all"), default="all",
                        help="what to write (default: all, i.e. Markdown, with its figures as SVG files beside it, "
                             "and LaTeX); html is one self-contained page with MathML; pdf compiles the LaTeX "
                             "with latexmk; values-tex writes \\expval macros")
    render.add_argument("--flavor", choices=FLAVORS,
                        help="the Markdown's dialect: github (the default), mkdocs (pymdownx.arithmatex), "
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
    handout = render.add_argument_group("handout", "the title block and the LaTeX/PDF layout; "
                                        "each replaces the spec's own setting")
    for field in ("title", "author", "course", "date"):
        handout.add_argument(f"--{field}", metavar="TEXT", help=f"the document's {field}")
    handout.add_argument("--paper", choices=PAPERS, help="the paper size (default: a4)")
    handout.add_argument("--equation-numbers", action=argparse.BooleanOptionalAction, default=None,
                         help="number the displayed equations (default: no)")
    handout.add_argument("--columns", type=int, choices=COLUMNS,
                         help="2: the compact two-column layout for long derivations (default: 1)")

    values = commands.add_parser("values", help="print every quantity of the derivation as JSON")
    values.add_argument("spec", nargs="?", metavar="SPEC", help=SPEC_HELP)

    check = commands.add_parser(
        "check", help="check numbers worked out by hand, line by line",
        description="Check the numbers (and formulas) of an answer sheet against the derivation. "
                    "Exit status: 0 when every claim is correct or off only by rounding, 1 when any is not, "
                    "2 when the answers or the spec cannot be read.",
    )
    check.add_argument("answers", metavar="ANSWERS",
                       help="the answers: plain keys, LaTeX, Markdown, TOML or JSON; - for standard input; "
                            "or a folder of sheets named after the students (alice.txt, …) for a class summary as CSV")
    check.add_argument("--spec", metavar="SPEC", help="the network spec the answers are for, a file or an example's name (default: the built-in example); "
                                                      "with --seed, the spec the exercise was made from")
    check.add_argument("--format", choices=CHECK_FORMATS,
                       help="text: a table for the terminal (default); markdown: for feedback; json: for autograders")
    variant = check.add_argument_group("exercises", "grade against a student's own variant (see explainer exercise)")
    variant.add_argument("--key", metavar="KEY", help="the student's answer key (keys/ID.json), which holds their network")
    variant.add_argument("--student", metavar="ID", help="the student whose variant to rebuild, with --seed")
    variant.add_argument("--seed", metavar="SEED", help="the seed the exercise was made with")
    variant.add_argument("--keys", metavar="DIR", help="for a folder of sheets: the folder of answer keys")
    variant.add_argument("--output", metavar="FILE", help="for a folder of sheets: write the CSV here (default: standard output)")
    precision = variant.add_mutually_exclusive_group()
    precision.add_argument("--decimals", type=_non_negative, metavar="N",
                           help="with --seed: the decimal places the exercise asked for (default: 9)")
    precision.add_argument("--digits", type=_positive, metavar="N",
                           help="with --seed: the significant digits the exercise asked for")

    exercise = commands.add_parser(
        "exercise", help="write per-student exercise sheets, worked solutions and answer keys",
        description="Draw a variant of the network with fresh two-decimal numbers for each student, deterministic "
                    "from the seed and the student id, and write DIR/questions/ID.md and .tex (the sheet to hand "
                    "out), DIR/solutions/ID.md and .tex (the worked solution) and DIR/keys/ID.json (the answer key "
                    "explainer check grades with).",
    )
    exercise.add_argument("spec", nargs="?", metavar="SPEC", help=f"{SPEC_HELP}: the shape to vary")
    students = exercise.add_mutually_exclusive_group(required=True)
    students.add_argument("--students", metavar="ROSTER", help="a text file with one student id per line")
    students.add_argument("--count", type=int, metavar="N", help="N students, numbered 1 to N (zero-padded)")
    exercise.add_argument("--seed", required=True, metavar="SEED",
                          help="any text; keep it to yourself: with it the numbers can be drawn again")
    exercise.add_argument("--output", metavar="DIR", default=DEFAULT_EXERCISES,
                          help=f"the folder to write into (default: {DEFAULT_EXERCISES})")
    exercise.add_argument("--format", choices=(*EXERCISE_FORMATS, "all"), default="all",
                          help="what to write besides the keys (default: all, i.e. Markdown and LaTeX)")
    digits = exercise.add_mutually_exclusive_group()
    digits.add_argument("--decimals", type=_non_negative, metavar="N",
                        help="ask for results to N decimal places (default: 9)")
    digits.add_argument("--digits", type=_positive, metavar="N", help="ask for results to N significant digits")
    exercise.add_argument("--detail", choices=("source", "full"), default="full",
                          help="of the worked solutions: full (the default), every step in full; source: as the source")
    examples = commands.add_parser(
        "examples", help="list the shipped example specs, or print one",
        description="Without NAME, list the shipped examples, one line each. With NAME, print that example "
                    "(explainer examples xor > xor.toml). Every command that takes a SPEC also takes an "
                    "example's name (explainer render xor); a file of that name wins.",
    )
    examples.add_argument("name", nargs="?", metavar="NAME", help="the example to print, as the list names it")
    return parser


def write_atomically(path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all, keeping any old file until the new one is complete."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(content, bytes):
            stream = os.fdopen(handle, "wb")
        else:
            stream = os.fdopen(handle, "w", encoding="utf-8", newline="\n")
        with stream:
            stream.write(content)
        # mkstemp makes the file private (0600); give it the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _render(args) -> int:
    from . import derive, load_spec
    from .spec.reading import with_overrides

    formats = ALL if args.format == "all" else (args.format,)
    if args.flavor and "markdown" not in formats:
        raise ExplainerError(f"--flavor applies to Markdown, and --format {args.format} writes none")
    derivation = derive(with_overrides(load_spec(args.spec), _handout_options(args)))
    options = {"decimals": args.decimals, "digits": args.digits, "detail": args.detail}
    to_stdout = args.output == "-"
    # Render everything before writing anything, so a failure leaves no partial output.
    documents = []
    for fmt in formats:
        path = None if to_stdout else _output_path(args.output, derivation.spec.name, fmt, len(formats) > 1)
        documents.append((path, *_document(derivation, fmt, path, options, args.flavor)))
    if to_stdout:
        # Only the documents: the figures a Markdown document refers to need a directory to live in.
        for _, content, _ in documents:
            if isinstance(content, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(content)
            else:
                sys.stdout.write(content)
        return 0
    for path, content, figures in documents:
        for where, what in ((path, content), *figures.items()):
            write_atomically(where, what)
            print(where)
    return 0


def _handout_options(args) -> dict:
    """The spec fields given on the command line (see ``spec.with_overrides``)."""
    given = {"title": args.title, "author": args.author, "course": args.course, "date": args.date,
             "handout.paper": args.paper, "handout.equation_numbers": args.equation_numbers,
             "handout.columns": args.columns}
    return {field: value for field, value in given.items() if value is not None}


def _document(derivation, fmt: str, path, options: dict, flavor: str | None) -> tuple[str | bytes, dict]:
    """One format's document, and the figures to write beside it (Markdown's SVG files, by path)."""
    from .outputs.render import render, render_with_figures

    if fmt == "markdown":
        prefix = path.stem if path is not None else None
        text, figures = render_with_figures(derivation, "markdown", figure_prefix=prefix, flavor=flavor, **options)
        return text, {} if path is None else {path.parent / name: svg for name, svg in figures.items()}
    if fmt in ("latex", "html"):
        return render(derivation, fmt, **options), {}
    if fmt == "pdf":
        from .outputs.pdf import compile_pdf

        pdf, report = compile_pdf(derivation.to_latex(**options))
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
    if several:
        return Path(output) / f"{name}{SUFFIXES[fmt]}"
    return Path(output)


def _values(args) -> int:
    import json

    from . import derive, load_spec

    derivation = derive(load_spec(args.spec))
    # JSON has no infinity or NaN (a diverged training run): those are null.
    values = {key: value if math.isfinite(value) else None for key, value in derivation.float_values().items()}
    print(json.dumps(values, indent=2, allow_nan=False))
    return 0


def _check(args) -> int:
    if args.answers != "-" and os.path.isdir(args.answers):
        return _check_class(args)
    _refuse(args.keys or args.output, "--keys and --output are for a folder of sheets; ANSWERS is one sheet")
    derivation, against = _graded_against(args)
    from .grading.check import check_answers
    from .grading.report import exit_status, report

    source = "<stdin>" if args.answers == "-" else args.answers
    text = _answers_text(args.answers, source)
    verdicts = check_answers(text, derivation, source)
    fmt = args.format or "text"
    color = fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(report(verdicts, fmt, answers=source, spec=against, color=color))
    return exit_status(verdicts)


def _graded_against(args):
    """The derivation a sheet is checked against, and the words that name it."""
    from .spec.reading import load_spec

    spec_name = args.spec or "the built-in example"
    if args.key:
        _refuse(args.spec or args.student or args.seed, "--key holds the student's own network; "
                                                        "give --key, or --student and --seed (with --spec)")
        _refuse_precision(args, "--key holds the precision")
        key = _answer_key(args.key)
        return _derived(key.spec), f"{args.key} (student {key.student})"
    if args.student or args.seed:
        _refuse(not (args.student and args.seed), "--student and --seed go together: the variant of that student")
        from .exercises.roster import checked_id
        from .exercises.variants import nice_variant

        student = checked_id(args.student, "--student")
        variant = nice_variant(load_spec(args.spec), args.seed, student, _number_format(args))
        return variant.derivation, f"student {student}'s variant of {spec_name} (seed {args.seed})"
    _refuse_precision(args, "they pick a variant's precision, with --seed")
    return _derived(load_spec(args.spec)), spec_name


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
    if args.keys:
        _refuse(args.spec, "--keys hold each student's own network; --spec is for --seed")
        _refuse_precision(args, "the keys hold the precision")
        derivations = _key_derivations(args.keys, sheets)
    else:
        derivations = _seed_derivations(args, sheets)
    from .exercises.nice import worked_by_hand
    from .grading.check import check_answers
    from .grading.summary import Graded, all_passed, class_summary
    from .spec.errors import AnswersError

    graded = []
    for student, derivation in derivations.items():
        verdicts = None
        if student in sheets:
            path = sheets[student]
            try:
                verdicts = check_answers(_answers_text(str(path), str(path)), derivation, str(path))
            except AnswersError as error:
                print(f"explainer: {error}; every quantity counts as missing", file=sys.stderr)
        graded.append(Graded(student, worked_by_hand(derivation), verdicts))
    table = class_summary(graded)
    if args.output is None:
        sys.stdout.write(table)
    else:
        from pathlib import Path

        write_atomically(Path(args.output), table)
        print(args.output)
    return 0 if all_passed(graded) else 1


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


def _key_derivations(folder: str, sheets: dict) -> dict:
    """Each student's derivation, from the answer keys in ``folder``: one per key, whether handed in or not."""
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
    return {student: _derived(key.spec) for student, (_, key) in keys.items()}


def _seed_derivations(args, sheets: dict) -> dict:
    from .exercises.variants import nice_variant
    from .spec.reading import load_spec

    spec, number_format = load_spec(args.spec), _number_format(args)
    return {student: nice_variant(spec, args.seed, student, number_format).derivation for student in sheets}


def _answer_key(path: str):
    from .exercises.sheets import read_key

    return read_key(_answers_text(path, path), path)


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

    spec = load_spec(args.spec)
    if args.students is not None:
        students = read_roster(_answers_text(args.students, args.students), args.students)
    else:
        students = numbered(args.count)
    from .exercises.sheets import student_files
    from .exercises.variants import nice_variant

    number_format = _number_format(args)
    formats = EXERCISE_FORMATS if args.format == "all" else (args.format,)
    # Draw and render every student's files before writing any, so a failure leaves no partial class.
    files = {}
    for student in students:
        variant = nice_variant(spec, args.seed, student, number_format)
        files.update(student_files(variant, number_format, formats, args.detail))
    for name, text in files.items():
        path = Path(args.output) / name
        write_atomically(path, text)
        print(path)
    return 0


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"render": _render, "values": _values, "check": _check, "exercise": _exercise,
                    "examples": _examples}
        return commands[args.command](args)
    except ExplainerError as error:
        print(f"explainer: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"explainer: error: {error.filename or ''}: {error.strerror}", file=sys.stderr)
        return 2


def run() -> None:
    """The ``explainer`` program: ``main`` in a process of its own, then exit."""
    status = main()
    # The process is about to end and the operating system frees its memory at
    # once; the interpreter's last garbage collections would only trace
    # SymPy's hundreds of thousands of objects again (about 70 ms).  Frozen
    # objects are left out of them.  Files are written and closed by now.
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
