"""Reading answer sheets: the numbers and formulas a user worked out by hand.

An answer sheet is text holding any mix of

- plain keys, as ``explainer values`` prints them: ``out_h1 = 0.593269992``;
- TOML or JSON: ``"dE_total/dw5" = 0.082167041``, ``"w5+": 0.35891648,`` or a
  whole JSON object of key → number (nested objects are read too);
- LaTeX, as the documents and the source write it, whole chains included:
  ``net_{o1} = w_5 * out_{h1} + … = 0.4 * 0.593269992 + … = 1.105905967``,
  on a line of its own or inside ``$$…$$``, a ```` ```math ```` fence, ``\\[…\\]``, ``$…$`` or an
  ``align``/``aligned``/``equation`` environment, whose rows (split at ``\\\\``)
  continue the chain above them when they start with ``=``.

A chain's first side names the quantity and its last side, when it is a
number, is the claim.  The sides between are formulas (written with names)
or the substituted form (written with numbers only).  A line that is not such
a chain is not a claim and is skipped; a chain whose first side is a name
that names nothing in the network is kept, so that it can be reported.

Numbers keep the digits they were written with (``Decimal("0.40")``): how
closely a claim must match depends on them.

An answer key (``explainer exercise``) is such a JSON object; its
``"exercise"`` member describes the student's variant and holds no answers.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..maths.formulas import Add, Exp, Frac, Mul, Neg, Num, Paren, Partial, Pow, Sym
from ..spec.documents import DocumentError, load_json
from ..spec.errors import AnswersError
from .formula_parts import leaves
from .names import Names
from .state_names import resolve

# The member of an answer key that describes the variant rather than answering.
KEY_DESCRIPTION = "exercise"


@dataclass(frozen=True)
class Number:
    """A number as the user wrote it: its text and its value with the digits written."""

    text: str
    value: Decimal

    @property
    def unit(self) -> Decimal:
        """One unit in the last digit written: 0.001 for ``0.593``, 1 for ``12``."""
        # Built from its digits, exact: scaleb would overflow the context on 1e9999999999.
        exponent = self.value.as_tuple().exponent
        return Decimal((0, (1,), exponent if isinstance(exponent, int) else 0))


@dataclass(frozen=True)
class Claim:
    """One line of an answer sheet: the quantity it names and what it says about it.

    ``formulas`` are the sides written with names (``w_5 * out_{h1} + …``),
    ``substituted`` the sides before the last written with numbers only, both
    as ``explainer.notation`` records whose names carry their keys.
    """

    line: int
    name: str  # the quantity as written
    key: str | None  # None: it names no quantity of this network
    given: Number | None = None
    formulas: tuple = ()
    substituted: tuple = ()
    understood: bool = True  # False: a line with a number that is no claim this reader understands (``name`` holds it)
    reason: str = ""  # why a line is not understood, where the reader knows
    context: str = ""  # a line that is no claim but tells how to read the lines below it (``t = 2``): what it tells


def parse_answers(text: str, names: Names, source: str = "<answers>") -> tuple[Claim, ...]:
    """Every claim of an answer sheet, in the order written (lines not understood, and context lines
    such as ``t = 2``, left out).

    Raises ``AnswersError`` when the sheet holds no claim at all.
    """
    claims = tuple(claim for claim in read_sheet(text, names, source) if claim.understood and not claim.context)
    if not claims:
        raise AnswersError(f"{source}: no answers found; expected lines such as 'out_h1 = 0.593269992'")
    return claims


def read_sheet(text: str, names: Names, source: str = "<answers>") -> tuple[Claim, ...]:
    """Every claim of an answer sheet, and every line with a number that holds none (``understood=False``).

    Raises ``AnswersError`` when the sheet holds neither.
    """
    text = text.removeprefix("\ufeff")
    claims = _json_claims(text, names)
    if claims is None:
        claims = []
        for line, readings, raw in _chains(text):
            # The first reading of the line that finds a claim is the line's.
            for chains in readings:
                found = [claim for chain in chains for claim in _claims(line, chain, names)]
                if found:
                    claims += found
                    break
            else:
                if _HAS_NUMBER.search(raw) and not _LATEX_MARKUP.match(raw):
                    claims.append(Claim(line, _shortened(raw), None, understood=False))
        derivation = getattr(names, "derivation", None)
        claims = tuple(resolve(claims, derivation) if derivation is not None else claims)
    if not claims:
        raise AnswersError(f"{source}: no answers found; expected lines such as 'out_h1 = 0.593269992'")
    return claims


# A number a claim would give: a decimal fraction, scientific notation, or a number after "=".
# Whole numbers in prose ("2 hidden neurons", "10,000 rounds") are not claims.
_HAS_NUMBER = re.compile(r"\d[.,]\d|(?<![\w.])\.\d|=\s{0,9}[-+\u2212]?\s{0,9}\d|\d[eE][-+]?\d|[×⁻]")
# A LaTeX source line that is markup (\usepackage[margin=2.5cm], \draw (0.4,1.1) …) rather than mathematics.
_LATEX_MARKUP = re.compile(r"\s{0,99}\\(?!frac|dfrac|tfrac|partial|delta|eta|mathrm|text|operatorname|left|sigma)[A-Za-z]")
_SHOWN = 60  # characters of a line not understood that the report shows


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


# --- whole JSON documents ---------------------------------------------------------


def _json_claims(text: str, names: Names) -> tuple[Claim, ...] | None:
    """The claims of a JSON object of key → number, or None when ``text`` is not one."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = load_json(text, parse_float=str, parse_int=str)
    except DocumentError:
        return None  # perhaps JSON-like lines, which the line reader understands
    if not isinstance(document, dict):
        return None
    document = {name: value for name, value in document.items() if name != KEY_DESCRIPTION}
    lines = _LineIndex(text)
    claims, position = [], 0
    for name, value in _flattened(document):
        found = text.find(json.dumps(name), position)
        position = found if found >= 0 else position
        number = _number(value)
        if number is not None:
            claims.append(Claim(lines.line_of(position), name, _identify(name, names), number))
    return tuple(claims)


def _flattened(document: dict):
    """The (name, number text) pairs of nested objects, depth first, without recursion (a sheet may nest deep)."""
    stack = [iter(document.items())]
    while stack:
        for name, value in stack[-1]:
            if isinstance(value, dict):
                stack.append(iter(value.items()))
                break
            if isinstance(value, str):
                yield name, value
        else:
            stack.pop()


# --- from text to chains ------------------------------------------------------------

# Where display math opens; where it closes is found by ``_Closers``, so that a sheet of
# unclosed openers is read in linear time (a lazy ``.*?`` to the closer would rescan the
# rest of the text from every opener).
_DISPLAY_OPENER = re.compile(
    r"\$\$"
    r"|^(?=[ \t]{0,3}(?:`{3,}|~{3,})[ \t]*math[ \t]*\n)"
    r"|\\\["
    r"|\\begin\{(?P<env>equation|align|alignat|gather|multline|eqnarray|math|displaymath)(?P<star>\*?)\}",
    re.M,
)
# A ```math (or ~~~math) fence, GitHub's and GitLab's display math; its body holds no fence line,
# so that it is matched in time linear in the distance to the next fence line.
_MATH_FENCE = re.compile(
    r"[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*math[ \t]*\n"
    r"(?P<fenced>(?:(?![ \t]{0,3}(?:`{3}|~{3}))[^\n]*\n)*?)[ \t]{0,3}(?P=fence)[ \t]*$",
    re.M,
)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{(?![bpvBV]?matrix\})\w+\*?\}(?:\{[^{}]*\})?")
_ROW_NOISE = re.compile(r"&|\\(?:nonumber|notag)\b|\\(?:label|tag)\{[^{}]*\}|^\s*\[[^\]]*\]")
_ROW_START = re.compile(r"(?:\s|\\begin\{\w+\*?\}(?:\{[^{}]*\})?)*")
_LATEX_COMMENT = re.compile(r"(?<!\\)%.*$", re.M)
_PLAIN_COMMENT = re.compile(r"(?:^|\s)(?:#|//).*$")
_LIST_MARKER = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d+[.)])?\s+|^\s*>\s*")
_KEY_VALUE = re.compile(r'^\s*"(?P<quoted>[^"]+)"\s*[:=]\s*(?P<value>.+?)\s*,?\s*$'
                        r"|^\s*(?P<bare>[^\s:=\"$]+)\s*:\s*(?P<bare_value>[-+−]?[\d.]\S*?)\s*,?\s*$")


class _LineIndex:
    """Line numbers (from 1) of positions in a text."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def line_of(self, position: int) -> int:
        return bisect.bisect_right(self.starts, position)


class _Closers:
    """The first place of a closing string at or after a position, each part of the text searched once.

    Openers are met in order, so the answer for one either is the one found for an
    earlier opener (found at or after this one) or lies beyond it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str, tuple[int, int]] = {}  # closer -> (searched from, found at or -1)

    def find(self, closer: str, start: int) -> int:
        searched, at = self.found.get(closer, (len(self.text) + 1, -1))
        if searched <= start and (at < 0 or at >= start):
            return at
        at = self.text.find(closer, start)
        self.found[closer] = (start, at)
        return at


def _displays(text: str):
    """``(start, end, inner start, inner)`` of each display, in order, none overlapping."""
    closers = _Closers(text)
    position = 0
    while (opener := _DISPLAY_OPENER.search(text, position)) is not None:
        if opener.group() == "":  # a math fence
            fence = _MATH_FENCE.match(text, opener.start())
            if fence is None:
                position = opener.start() + 1
                continue
            yield fence.start(), fence.end(), fence.start("fenced"), fence.group("fenced")
            position = fence.end()
            continue
        closer = {"$$": "$$", "\\[": "\\]"}.get(opener.group()) or f"\\end{{{opener['env']}{opener['star']}}}"
        at = closers.find(closer, opener.end())
        if at < 0:
            position = opener.start() + 1
            continue
        yield opener.start(), at + len(closer), opener.end(), text[opener.end():at]
        position = at + len(closer)


def _chains(text: str):
    """``(line, chains)``: the candidate chains ``a = b = …`` of each line or display row of the text."""
    text = _without_pictures(text)
    lines = _LineIndex(text)
    position = 0
    for start, end, inner_start, inner in _displays(text):
        yield from _plain_chains(text[position:start], lines.line_of(position))
        yield from _block_chains(inner, lines.line_of(inner_start))
        position = end
    yield from _plain_chains(text[position:], lines.line_of(position))


def _plain_chains(text: str, first_line: int):
    """Chains of text outside display math: inline ``$…$`` math, else the line's own claims."""
    header: list[str] = []  # the header row of the table being read
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        if line.lstrip().startswith("```"):
            continue  # a fence; the claims inside it are read like any others
        cells = _table_cells(line)
        if cells is None:
            header = []
        elif not _HAS_NUMBER.search(line) and not all(set(cell) <= set("-: ") for cell in cells):
            header = cells
        yield number, list(_line_readings(line, header)), line


_RULES = re.compile(r"(?:\\(?:hline|midrule|toprule|bottomrule)\s{0,9}){1,9}$")
# Pictures (TikZ, pgfplots) hold coordinates and options, not claims.
_PICTURE_OPENER = re.compile(r"\\begin\{(tikzpicture|axis)\}")


def _without_pictures(text: str) -> str:
    """``text`` with its pictures blanked out, line breaks kept so that line numbers stay right."""
    closers = _Closers(text)
    parts = []
    position = 0
    while (opener := _PICTURE_OPENER.search(text, position)) is not None:
        closer = f"\\end{{{opener[1]}}}"
        at = closers.find(closer, opener.end())
        if at < 0:
            position = opener.end()
            continue
        parts.append((opener.start(), at + len(closer)))
        position = at + len(closer)
    if not parts:
        return text
    pieces, kept = [], 0
    for start, end in parts:
        pieces += [text[kept:start], "\n" * text.count("\n", start, end)]
        kept = end
    return "".join(pieces) + text[kept:]


def _table_cells(line: str) -> list[str] | None:
    """The cells of a Markdown (``| a | b |``) or LaTeX (``a & b \\\\``) table row, or None."""
    stripped = _RULES.sub("", line.strip())
    if stripped.startswith("|"):
        cells = stripped.strip("|").split("|")
    elif "&" in stripped and stripped.endswith("\\\\"):
        cells = stripped.removesuffix("\\\\").split("&")
    else:
        return None
    return [_MARKUP.sub(" ", re.sub(r"\\(?:textbf|textit|emph)\b|\\hline", " ", cell)).replace("$", " ").strip()
            for cell in cells]


def _line_readings(line: str, header: list[str] = ()):
    """The ways to read one line outside display math, each a list of chains, most specific first.

    Inline math comes first; a line whose inline math is no claim is also read
    with the dollars taken away (``$out_{h1}$ = 0.5933``).
    """
    inline = _INLINE.findall(line)
    if inline:
        yield inline
        line = line.replace("$", " ")
    cells = _table_cells(line)
    if cells is not None:
        yield from _table_row(cells, header)
        return
    line = _PLAIN_COMMENT.sub("", line)
    pair = _KEY_VALUE.match(line)
    if pair:
        name = pair.group("quoted") or pair.group("bare")
        value = (pair.group("value") or pair.group("bare_value")).strip().strip('"')
        yield [f"{name} = {value}"]
        return
    line = _LIST_MARKER.sub("", _MARKUP.sub(" ", line), count=1)
    line = _AFTER_ROUNDS.sub(_rounds, _VERBS.sub(r"\1 = ", line))
    yield list(_segments(line) if "=" in line else _separated_values(line)) or [line]


# Emphasis and code marks around a claim: **out_h1 = 0.5933**, `w5+`.
_MARKUP = re.compile(r"\*\*|__|`")
# "out_h1 is 0.5933": a verb between a name and a number.
# Only right after a name standing alone: in prose ("the target for o1 is 0.01") a verb states no claim.
_VERBS = re.compile(r"^(\s{0,9}[^\s=]{1,80})\s{1,9}(?:is|equals|was|becomes|comes to|≈|~)\s(?=\s{0,9}[-+\u2212]?\s{0,9}\.?\d)")
# "E_total after the update", "out_o1 after 10000 rounds": the keys' @N.
_AFTER_ROUNDS = re.compile(
    r"\s{0,9}\(?\s{0,9}after\s(?:the\s)?(?:(first|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,9})\s)?"
    r"(?:update|round|step|iteration|epoch)s?"
    r"(?:\s(\d{1,9}))?\s{0,9}\)?", re.I)
# Between two claims: "; ", ", ", " and ", " so ", an arrow, the end of a sentence.
_SEPARATORS = re.compile(r";|,\s|\s(?:and|so|then|thus|hence|therefore|giving|gives)\s|\t|\s?(?:->|=>|→|⇒)\s?|\.\s")


_COUNTS = {"first": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
           "eight": "8", "nine": "9", "ten": "10"}


def _rounds(match: re.Match) -> str:
    count = match.group(1) or match.group(2) or "1"
    return "@" + _COUNTS.get(count.lower(), count)


def _segments(line: str):
    """The claims of a line, split where one ends and the next begins: ``net_h1 = 0.3775, out_h1 = 0.5933``.

    A piece without ``=`` belongs to the claim before it (a note, or a comma inside a formula).
    """
    pieces: list[str] = []
    position = 0
    for match in _SEPARATORS.finditer(line):
        piece = line[position:match.start()]
        if pieces and "=" not in piece:
            pieces[-1] += line[position - len(_last_separator(line, position)):match.start()]
        else:
            pieces.append(piece)
        position = match.end()
    rest = line[position:]
    if pieces and "=" not in rest:
        pieces[-1] += line[position - len(_last_separator(line, position)):]
    else:
        pieces.append(rest)
    yield from (piece for piece in pieces if piece.strip())


def _last_separator(line: str, end: int) -> str:
    """The separator that ends just before ``end``."""
    for match in _SEPARATORS.finditer(line, max(0, end - 5), end):
        if match.end() == end:
            return match.group()
    return ""


def _separated_values(line: str):
    """``out_h1,0.5933`` or ``out_h1<TAB>0.5933`` (a CSV or TSV export): the first field and the last."""
    for separator in ("\t", ",", ";"):
        fields = [f.strip().strip('"') for f in line.split(separator)]
        if len(fields) >= 2 and fields[0] and fields[-1]:
            value = fields[-1].replace(",", ".") if separator == ";" else fields[-1]
            yield f"{fields[0]} = {value}"
            return


# What a column of numbers holds, by its header: the quantity itself, or its value after the update.
_BEFORE = re.compile(r"(?i)\s*(?:before|initial|old|original|start|given|value|result|your result|answer|number|computed)\s*")
_AFTER = re.compile(r"(?i).*(?:after|updated|new|\+).*")
# A column of gradients ("gradient", "gradient after one round"), which is not the weight after the update.
_GRADIENT_HEADER = re.compile(r"(?i)gradient|derivative|∂|\\partial|slope")
# Each column's claim, by what its header says it holds; the name is the row's, as the sheet writes it.
_COLUMNS = {"": "{{{name}}} = {value}", "+": "{{{name}}}^+ = {value}",
            "gradient": "\\frac{{\\partial E_{{total}}}}{{\\partial {{{name}}}}} = {value}",
            "gradient@1": "\\frac{{\\partial E_{{total}}}}{{\\partial {{{name}}}^+}} = {value}"}


def _table_row(cells: list[str], header: list[str]):
    """A table row's claims: the first cell naming a quantity and each cell holding a number.

    With one number, it is the quantity's value; with several, each column's
    header says which it is (``before`` / ``after one round``: the weight and
    the weight after the update), and a column no header explains makes the
    row not understood.  A cell that is a chain of its own (``out_h1 = 0.5933``)
    is read as one.
    """
    if all(set(cell) <= set("-: ") for cell in cells):
        return
    chains = [cell for cell in cells if "=" in cell]
    if chains:
        yield [segment for cell in chains for segment in _segments(cell)]
        return
    numbers = [i for i, cell in enumerate(cells) if cell and _LEADING_NUMBER.fullmatch(normalised(cell))]
    names = [cell for i, cell in enumerate(cells) if cell and i not in numbers]
    only_title = header[numbers[0]] if len(numbers) == 1 and numbers[0] < len(header) else ""
    if len(numbers) == 1 and not (_GRADIENT_HEADER.search(only_title) or _AFTER.fullmatch(only_title)):
        # The key column may be followed by the printed name: either may name the quantity.
        yield from ([f"{name} = {cells[numbers[0]]}"] for name in names)
        return
    columns = []
    for i in numbers:
        title = header[i] if i < len(header) else ""
        rounds = _AFTER_ROUNDS.search(title)
        count = _rounds(rounds)[1:] if rounds else ""
        if _GRADIENT_HEADER.search(title):
            # "gradient after one round": the gradient at the parameters after that round.
            if count not in ("", "1"):
                return  # a gradient after several rounds, which no sheet's name says
            columns.append(("gradient@1" if count else "gradient", cells[i]))
        elif rounds and count != "1":
            columns.append((f"@{count}", cells[i]))  # "after two rounds": the weight after them
        elif _AFTER.fullmatch(title):
            columns.append(("+", cells[i]))
        elif _BEFORE.fullmatch(title):
            columns.append(("", cells[i]))
        else:
            return  # a number whose column says nothing of what it is
    for name in names:
        yield [(_COLUMNS.get(kind) or "{{{name}}}^{{(%s)}} = {value}" % kind[1:]).format(name=name, value=value)
               for kind, value in columns]


def _block_chains(body: str, first_line: int):
    """Chains of a display-math block: its rows, a row starting with ``=`` continuing the one above."""
    body = _LATEX_COMMENT.sub("", body)
    chains: list[list] = []
    position = 0
    for row in _top_rows(body):  # \\* is a row end that forbids a page break
        # The row's line is that of its first character after blanks and \begin{…}.
        line = first_line + body.count("\n", 0, position + _ROW_START.match(row).end())
        position += len(row) + 2
        row = _outside_matrix(row, lambda part: _ROW_NOISE.sub(" ", _ENVIRONMENT.sub(" ", part)))
        row = re.sub(r"\\q?quad\b", " ", row).strip()
        if not row:
            continue
        continues = chains and (row.startswith("=") or (row[0] in "+-−" and "=" not in row))
        if continues:
            chains[-1][1] += " " + row
        else:
            chains.append([line, row])
    yield from ((line, [[chain]], chain) for line, chain in chains)


_ROW_OR_MATRIX = re.compile(r"\\\\\*?|\\(begin|end)\{[bpvBV]?matrix\}")


def _outside_matrix(text: str, change, inside=lambda matrix: matrix) -> str:
    """``text`` with ``change`` applied to its parts outside matrix environments (whose ``&`` and rows stay),
    and ``inside`` to those environments."""
    parts, position = [], 0
    for start, end in _matrix_spans(text):
        parts += [change(text[position:start]), inside(text[start:end])]
        position = end
    return "".join(parts + [change(text[position:])])


def _top_rows(body: str) -> list[str]:
    """The rows of a display block, split at its ``\\\\`` but not at those of a matrix inside it."""
    rows, depth, start = [], 0, 0
    for match in _ROW_OR_MATRIX.finditer(body):
        if match.group(1):
            depth = max(0, depth + (1 if match.group(1) == "begin" else -1))
        elif depth == 0:
            rows.append(body[start:match.start()])
            start = match.end()
    rows.append(body[start:])
    return rows


# --- normalising LaTeX and unicode ---------------------------------------------------

_REPLACEMENTS = [
    (re.compile(r"[\u2212\u2013\u2012]"), "-"),
    (re.compile(r"[×·⋅∗]|\\(?:cdot|times|ast)(?![A-Za-z])"), "*"),
    (re.compile(r"÷|\\div(?![A-Za-z])"), "/"),
    (re.compile(r"≈|≃|\\(?:approx|simeq|doteq)(?![A-Za-z])|:="), "="),
    (re.compile(r"∂"), r"\\partial "),
    (re.compile(r"η"), r"\\eta "),
    (re.compile(r"α"), r"\\alpha "),
    (re.compile(r"½"), r"\\frac{1}{2}"),
    (re.compile(r"δ"), r"\\delta"),
    (re.compile(r"\\[dt]frac(?![A-Za-z])"), r"\\frac"),
    (re.compile(r"\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])\s*"), ""),
    (re.compile(r"\\(?:displaystyle|textstyle)(?![A-Za-z])"), " "),
    (re.compile(r"(?<!\\)\\[,;:! ]|~|\\q?quad(?![A-Za-z])"), " "),  # not a matrix row's end
]
_WRAPPER = re.compile(r"\\(?:text|textrm|textit|mathrm|mathit|mathbf|mathsf|boldsymbol|operatorname)\s*\{([^{}]*)\}")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚₛₜᵤᵥₓ′", "0123456789aehijklmnopstuvx'")
_SUPERSCRIPTS = re.compile(r"[⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹]{1,12}")
_SUPERSCRIPT_CHARACTERS = str.maketrans("⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "+-0123456789")


def normalised(text: str) -> str:
    """``text`` with unicode and LaTeX variants written one way: ``−`` → ``-``, ``\\cdot`` → ``*``, …"""
    text = text.translate(_SUBSCRIPT_DIGITS)
    # w₅⁺ → w5^{+}, 10⁻⁴ → 10^{-4}
    text = _SUPERSCRIPTS.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPT_CHARACTERS) + "}", text)
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    while (unwrapped := _WRAPPER.sub(lambda m: m.group(1).strip(), text)) != text:
        text = unwrapped
    return text.strip().rstrip(".,;").strip()


# --- one chain ----------------------------------------------------------------------------


def _claims(line: int, chain: str, names: Names) -> list[Claim]:
    """The claims of one chain: one, or one for each entry of a vector or matrix (``δ^{(2)} = [0.1385, -0.0381]``)."""
    sides = [side.strip() for side in _outside_matrices(normalised(chain)).split("=")]
    if len(sides) >= 2 and all(sides[1:]):
        keys = _vector_keys(sides[0], names) if names.key(sides[0]) is None else None
        if keys is not None:
            return _entry_claims(line, sides[0].replace(_EQUALS, "="), keys, sides[-1].replace(_EQUALS, "="))
    claim = _claim(line, chain, names)
    return [] if claim is None else [claim]


# An "=" inside a matrix literal, kept apart while a chain is split at its own.
_EQUALS = "\u0000"
_MATRIX_ENV = re.compile(r"\\begin\{([bpvBV]?matrix)\}(.*?)\\end\{\1\}", re.S)


_MATRIX_MARK = re.compile(r"\\(begin|end)\{[bpvBV]?matrix\}")


def _matrix_spans(text: str) -> list[tuple[int, int]]:
    """The spans of the outermost matrix environments of ``text``, found in one pass (an unclosed one is none)."""
    spans, depth, start = [], 0, 0
    for match in _MATRIX_MARK.finditer(text):
        if match.group(1) == "begin":
            if depth == 0:
                start = match.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, match.end()))
    return spans


def _outside_matrices(text: str) -> str:
    """``text`` with the ``=`` inside its matrices set apart, so that a chain is split at its own only."""
    return _outside_matrix(text, lambda part: part, lambda matrix: matrix.replace("=", _EQUALS))


def _vector_keys(text: str, names: Names):
    """The keys of the vector or matrix ``text`` names, row by row, or None (a scalar, or nothing)."""
    keys = names.vector(text)
    if keys is not None:
        return keys
    node = _parsed(text, names)
    if isinstance(node, Partial) and node.key is None:
        return names.vector_partial(node.of.tex, node.wrt.tex)
    return None


def _entry_claims(line: int, name: str, keys, written: str) -> list[Claim]:
    """One claim for each entry of the matrix ``keys`` whose numbers are ``written``; a line not understood
    when they are no matrix of that shape, none when they are no numbers at all (a formula).

    A matrix written cut short (its first columns, ``\\cdots``, its last, as the documents show a wide
    one) claims the entries it shows."""
    rows = _matrix_literal(written)
    if rows is None:
        if _number(written) is None:
            return []
        return [Claim(line, f"{name} = {written}: one number for {_shape(keys)}", None, understood=False)]
    size = (len(keys), len(keys[0]))
    if size[1] == 1 and len(rows) == 1 and len(rows[0]) > 1:
        rows = [[x] for x in rows[0]]  # a column written on one line
    elif size[0] == 1 and len(rows[0]) == 1 and len(rows) > 1:
        rows = [[row[0] for row in rows]]
    gap_rows = [i for i, row in enumerate(rows) if all(x is _GAP for x in row)]
    gap_columns = [j for j in range(len(rows[0])) if all(row[j] is _GAP for i, row in enumerate(rows) if i not in gap_rows)]
    row_at = _positions(len(rows), size[0], gap_rows)
    column_at = _positions(len(rows[0]), size[1], gap_columns)
    entries = [] if row_at is None or column_at is None else [
        (row_at[i], column_at[j], number) for i, row in enumerate(rows) for j, number in enumerate(row)
        if i not in gap_rows and j not in gap_columns]
    if not entries or any(number is _GAP for _, _, number in entries):
        shown = _shape([[x for j, x in enumerate(row) if j not in gap_columns] for i, row in enumerate(rows)
                        if i not in gap_rows] or [[None]])
        return [Claim(line, f"{name} = {_shortened(written)}: {shown} for {_shape(keys)}", None, understood=False)]
    single = size[1] == 1 or size[0] == 1
    return [Claim(line, f"{name} entry {i + j + 1}" if single else f"{name} entry ({i + 1}, {j + 1})",
                  keys[i][j], number) for i, j, number in entries]


def _positions(written: int, size: int, gaps: list[int]) -> list[int] | None:
    """Where each of ``written`` rows (columns) stands among ``size``: one by one, or around one gap
    (the first ones, the gap, the last ones); None when they cannot stand there."""
    if not gaps:
        return list(range(written)) if written == size else None
    if len(gaps) > 1 or written - 1 >= size:  # a gap stands for one entry at least
        return None
    gap = gaps[0]
    return [i if i < gap else size - (written - i) for i in range(written)]


def _shape(rows) -> str:
    count = len(rows) * len(rows[0])
    if len(rows) == 1 or len(rows[0]) == 1:
        return f"{count} number{'s' if count != 1 else ''}" if count != 1 else "one number"
    return f"a {len(rows)}×{len(rows[0])} matrix"


# The gap of a matrix written cut short.
_GAP = object()
_DOTS = re.compile(r"\\[cvd]?dots|\\ldots|\.\.\.|…")
_TRANSPOSED = re.compile(r"\s{0,9}\^\s{0,9}(?:\{\s{0,9}T\s{0,9}\}|T|\{\s{0,9}\\top\s{0,9}\}|\\top)\s{0,9}$")
_ROW_END = re.compile(r"\\\\\*?|;")
_MOST_ENTRIES = 10_000


def _matrix_literal(text: str) -> list[list[Number]] | None:
    """The numbers of a matrix written ``\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}``, ``[[a, b], [c, d]]``,
    ``[a, b]`` (a vector), ``[a; b]`` or ``(a, b)``, row by row; ``^T`` transposes; None when it is none."""
    text = text.replace(_EQUALS, "=").strip()
    transposed = _TRANSPOSED.search(text)
    if transposed:
        text = text[:transposed.start()].strip()
    if text.startswith("(") and text.endswith(")"):
        text = f"[{text[1:-1]}]"
    match = _MATRIX_ENV.fullmatch(text)
    if match:
        cells = [row.split("&") for row in _ROW_END.split(match.group(2))]
    elif text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        if inner.startswith("["):
            parts = re.split(r"\]\s{0,9},?\s{0,9}\[", inner.removeprefix("[").removesuffix("]").strip())
            if any("[" in part or "]" in part for part in parts):
                return None
            cells = [part.split(",") for part in parts]
        else:
            cells = [row.split(",") for row in inner.split(";")]
    else:
        return None
    cells = [[cell.strip() for cell in row] for row in cells if "".join(row).strip()]
    if not cells or len({len(row) for row in cells}) != 1 or len(cells) * len(cells[0]) > _MOST_ENTRIES:
        return None
    rows = [[_GAP if _DOTS.fullmatch(cell) else _number(cell) for cell in row] for row in cells]
    if any(number is None for row in rows for number in row):
        return None
    return [list(column) for column in zip(*rows)] if transposed else rows


def _claim(line: int, chain: str, names: Names) -> Claim | None:
    sides = [side.strip() for side in normalised(chain).split("=")]
    if len(sides) < 2 or not all(sides[1:]):
        return None
    name, lhs = _named(sides[0], names)
    if lhs is None:
        return None
    written = [_parsed(side, names) for side in sides[1:]]
    given = _number_of(written[-1])
    if given is None:
        given = _with_note(sides[-1], names)
        if given is not None:
            written[-1] = None
    formulas = tuple(side for side in written if side is not None and _is_formula(side))
    substituted = tuple(side for side in written[:-1] if side is not None and _is_numbers(side))
    if given is None and not formulas:
        return None
    return Claim(line, name, lhs.key, given, formulas, substituted)


# A name as a student may write one that names nothing: reported as unknown rather than passed over.
_IDENTIFIER = re.compile(r"[A-Za-z\\][A-Za-z0-9_{}\\^+@\[\]',]{0,60}")
_DERIVATIVE_KEY = re.compile(r"d\w{1,80}/d\w{1,80}\+?(?:\[\d{1,9}\])?(?:@\d{1,9})?")
# Words before a name that are mathematics, not prose: the name goes on across them (∂C/∂ w5, d/d w5, 2 * w5).
_MATH_BEFORE = re.compile(r"(?:[/*^_+\-({\[\\]|\\[A-Za-z]+)\s*$")
_MOST_WORDS = 12  # of prose before a claim's name that are tried as part of it


def _named(text: str, names: Names):
    """The name a chain's first side gives, with its record: the whole side, else its last words
    (``New error: E_total@1``, ``The output out h1``); ``(None, None)`` when it names nothing."""
    node = _parsed(text, names)
    if isinstance(node, (Sym, Partial)) and not _is_euler(node):
        return text, node
    words = text.split()
    for k in range(min(len(words) - 1, _MOST_WORDS), 0, -1):
        if _MATH_BEFORE.search(" ".join(words[:-k])):
            continue  # ∂C/∂ before w^3_11: part of the name, which is not w^3_11 alone
        tail = " ".join(words[-k:]).lstrip(":,(")
        node = _parsed(tail, names)
        if isinstance(node, (Sym, Partial)) and node.key is not None:
            return tail, node
        key = names.key(tail) if names is not None else None
        if key is not None:
            return tail, Sym(tail, key)
    if len(words) > 1 and _MATH_BEFORE.search(" ".join(words[:-1])):
        return None, None
    if words and _DERIVATIVE_KEY.fullmatch(words[-1]):
        return words[-1], Sym(words[-1], None)  # dout_h3/dnet_h3: a derivative of nothing in the network
    if len(words) > 1 and _IDENTIFIER.fullmatch(words[-1]) and any(c.isdigit() or c == "_" for c in words[-1]):
        return words[-1], Sym(words[-1], None)
    return None, None


_LEADING_NUMBER = re.compile(
    r"((?>[-+]?\s{0,9}(?:\d{1,400}\.?\d{0,20000}|\.\d{1,20000})(?:[eE][-+]?\d{1,12})?"
    r"(?:\s{0,9}\*\s{0,9}10\s{0,9}\^\s{0,9}(?:\{\s{0,9}[-+]?\d{1,12}\s{0,9}\}|[-+]?\d{1,12}))?))"
    r"(?=[\s(,\[;:!?]|\.(?!\d)|\\(?:ldots|dots|cdots)|\.\.\.|…|$)")


def _with_note(side: str, names: Names) -> Number | None:
    """The number a side starts with when the rest is a note: ``0.35891648 (rounded)``, ``0.3056 (it went up??)``."""
    match = _LEADING_NUMBER.match(side)
    if match is None:
        return None
    rest = side[match.end():].strip()
    if rest and (rest[0] in "*/^+-" or names.key(rest.strip("()[], ")) is not None):
        return None
    return _number(match.group(1))


def _identify(text: str, names: Names) -> str | None:
    """The key ``text`` names; the same for every sheet read with the same names (a class's)."""
    if text not in names.read:
        node = _parsed(normalised(text), names)
        names.read[text] = node.key if isinstance(node, (Sym, Partial)) else None
    return names.read[text]


def _number(text: str) -> Number | None:
    node = _parsed(normalised(text), None)
    return _number_of(node)


def _number_of(node) -> Number | None:
    if isinstance(node, Paren):
        return _number_of(node.arg)
    if isinstance(node, Num):
        return Number(node.text, Decimal(node.text))
    if isinstance(node, Neg) and isinstance(node.arg, Num):
        text = _negated(node.arg.text)
        return Number(text, Decimal(text))
    return None


def _is_formula(node) -> bool:
    """Written with names only, each naming a quantity, and whole numbers: checkable exactly."""
    parts = list(leaves(node))
    named = [p for p in parts if not isinstance(p, Num)]
    return bool(named) and all(p.key is not None for p in named) and all(
        re.fullmatch(r"-?\d+", p.text) for p in parts if isinstance(p, Num))


def _is_numbers(node) -> bool:
    return all(isinstance(p, Num) for p in leaves(node))


def _is_euler(node) -> bool:
    return isinstance(node, Sym) and node.tex == "e" and node.key is None


def _negated(text: str) -> str:
    return text[1:] if text.startswith("-") else f"-{text}"


# --- tokens and the expression parser ------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
      (?P<power>\s*\*\s*10\s*\^\s*(?:\{\s*[-+]?\d+\s*\}|[-+]?\d))?
  | (?P<command>\\(?:frac|partial|exp)(?![A-Za-z]))
  | (?P<key>d[A-Za-z0-9_]+/d[A-Za-z0-9_]+\+?(?:\[B?\d+\])?(?:@\d+)?)
  | (?P<name>(?:\\mathcal\{[A-Za-z]\}|\\(?:hat|widehat)(?:\{[A-Za-z]\}|\s+[A-Za-z])|\\[A-Za-z]+|[A-Za-zδ]\u0302?[A-Za-z0-9]*)
        (?:_(?:\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9]+))*
        (?:\^(?:\{\s*(?:\+|new|\(\d+\)|\(\\mathcal\{B\}_\{\d+\}\))\s*\}|\+))?
        (?:\+(?=\s*(?:[=),;*[]|$)))?
        '*
        (?:\[B?\d+\])?
        (?:@\d+)?)
  | (?P<op>[-+*/^(){}\[\]])
    """,
    re.X,
)


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
# A name with scripts in any order, as the notations print them: z^2_1, w^{[2]}_{12}, {W^{(1)}}^+, dW^{[2]}.
# It is a name only when it names a quantity; otherwise its ^ may be a power (e^{-net}).
_BRACED = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_SCRIPTED = re.compile(
    r"(?:\\mathcal\{[A-Za-z]\}|\\[A-Za-z]+|[A-Za-z][A-Za-z0-9]*|" + _BRACED + r")"
    r"(?:\s{0,9}[_^]\s{0,9}(?:" + _BRACED + r"|\\[A-Za-z]+|\d+|[A-Za-z+]))+"
    r"(?:\+(?=\s*(?:[=),;*[]|$)))?'*(?:\[\d+\])?(?:@\d+)?")
# The same name's derivative in the quotient's spelling: dC/dw^3_{11}, dL/dw^{[2]}_12, dE/dw^{(1)}_21.
_SCRIPTED_PARTIAL = re.compile(
    r"d(?:\\mathcal\{[A-Za-z]\}|[A-Za-z]+(?:_(?:\{\w+\}|\w+))?)\s{0,9}/\s{0,9}d" + _SCRIPTED.pattern)


class _Unreadable(Exception):
    """A side that is not a formula this reader understands."""


def _tokens(text: str, names: Names | None) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        scripted = _SCRIPTED.match(text, position) if names is not None else None
        quotient = _SCRIPTED_PARTIAL.match(text, position) if names is not None else None
        if quotient and names.key(quotient.group()) is not None:
            tokens.append(("key", quotient.group()))
            position = quotient.end()
            continue
        if (scripted and (match is None or scripted.end() > match.end())
                and (names.key(scripted.group()) is not None or names.vector(scripted.group()) is not None)):
            tokens.append(("name", scripted.group()))
            position = scripted.end()
            continue
        if match is None:
            raise _Unreadable(text[position:])
        kind = match.lastgroup if match.lastgroup != "power" else "number"
        if kind == "key" and (names is None or names.key(match.group()) is None):
            # Not a key of this network: an ordinary name, then a division.
            match, kind = _PLAIN_NAME.match(text, position), "name"
        if kind == "name":
            tokens.append(("name", match.group()))
        elif kind == "number":
            tokens.append(("number", _decimal_text(match.group("number"), match.group("power"))))
        elif kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


# A number beyond these is no hand calculation: its line is not understood (and nothing overflows).
MAX_DIGITS = 60
MAX_EXPONENT = 300


def _decimal_text(mantissa: str, power: str | None) -> str:
    """The number's text for ``Decimal``/``mpmath``: ``3.5 \\times 10^{-5}`` → ``0.000035``."""
    digits = len(mantissa.replace(".", "").lstrip("0")) if "e" not in mantissa.lower() else len(mantissa)
    if digits > MAX_DIGITS:
        raise _Unreadable(mantissa[:20])
    value = Decimal(mantissa)
    if power:
        exponent = re.search(r"[-+]?\d{1,12}\s{0,9}\}?\s{0,9}$", power).group().strip("} ")
        if abs(int(exponent)) > MAX_EXPONENT:
            raise _Unreadable(power)
        value = value.scaleb(int(exponent))
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise _Unreadable(mantissa[:20])
    return str(value) if -7 <= value.adjusted() < 21 else f"{value:E}"


def _parsed(text: str, names: Names | None):
    """The side ``text`` as a notation record, or None when it cannot be read."""
    try:
        return _Parser(_tokens(text, names), names).whole()
    except (_Unreadable, InvalidOperation, IndexError):
        return None


# Parentheses, braces and powers nested deeper than this are no hand calculation; it also keeps
# the recursive descent (and every recursive walk of the formula after it) far from Python's limit.
MAX_NESTING = 50


class _Parser:
    """Recursive descent over LaTeX or plain arithmetic; juxtaposition multiplies."""

    _STARTS = {"number", "name", "key", "command"}

    def __init__(self, tokens: list[tuple[str, str]], names: Names | None) -> None:
        self.tokens = tokens
        self.names = names
        self.position = 0
        self.depth = 0  # of nesting: parentheses, braces, signs, powers

    def whole(self):
        node = self.expression()
        if self.position != len(self.tokens):
            raise _Unreadable(self.tokens[self.position][1])
        return node

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            raise _Unreadable(f"expected {text}")
        self.position += 1
        return token

    def expression(self):
        terms = [self.signed(self.term)]
        while self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            term = self.term()
            terms.append(term if sign == "+" else Neg(term))
        return terms[0] if len(terms) == 1 else Add(tuple(terms))

    def signed(self, parse):
        negative = False
        while self.peek()[1] in ("+", "-"):  # a loop, not recursion: "- - - … 1" of any length
            negative ^= self.take()[1] == "-"
        node = parse()
        return _negate(node) if negative else node

    def term(self):
        factors = [self.power()]
        while True:
            kind, text = self.peek()
            if text == "*":
                self.take()
                factors.append(self.signed(self.power))
            elif text == "/":
                self.take()
                factors = [Frac(_product(factors), self.signed(self.power))]
            elif kind in self._STARTS or text in ("(", "{", "["):
                factors.append(self.power())
            else:
                return _product(factors)

    def power(self):
        base = self.primary()
        if self.peek()[1] != "^":
            return base
        self.take()
        exponent = self.signed(self.primary)
        return Exp(exponent) if _is_euler(base) else Pow(base, exponent)

    def primary(self):
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise _Unreadable("nested too deeply")
            return self._primary()
        finally:
            self.depth -= 1

    def _primary(self):
        kind, text = self.take()
        if kind == "number":
            return Num(text)
        if kind in ("name", "key"):
            return self.name(text)
        if text == "(" or text == "[":
            node = Paren(self.expression())
            self.take(")" if text == "(" else "]")
            return node
        if text == "{":
            node = self.expression()
            self.take("}")
            return node
        if text == r"\frac":
            return self.fraction()
        if text == r"\partial":
            of = self.take()[1]
            self.take("/")
            self.take(r"\partial")
            return self.partial(of, self.take()[1])
        if text == r"\exp":
            return Exp(self.power())
        raise _Unreadable(text)

    def fraction(self):
        self.take("{")
        if self.peek()[1] == r"\partial":
            self.take()
            of = self.take()[1]
            self.take("}")
            self.take("{")
            self.take(r"\partial")
            wrt = self.take()[1]
            self.take("}")
            return self.partial(of, wrt)
        numerator = self.expression()
        self.take("}")
        self.take("{")
        denominator = self.expression()
        self.take("}")
        return Frac(numerator, denominator)

    def name(self, text: str) -> Sym:
        return Sym(text, self.names.key(text) if self.names else None)

    def partial(self, of: str, wrt: str) -> Partial:
        key = self.names.partial(of, wrt) if self.names else None
        return Partial(self.name(of), self.name(wrt), key)


def _negate(node):
    if isinstance(node, Num):
        return Num(_negated(node.text))
    return Neg(node)


def _product(factors: list):
    return factors[0] if len(factors) == 1 else Mul(tuple(factors))
