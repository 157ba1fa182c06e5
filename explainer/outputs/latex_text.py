"""The user's own text (title, author, course, date) as LaTeX, in any script.

pdfLaTeX with the T1 and TS1 encodings prints ASCII and most Latin letters;
Greek, Cyrillic, CJK, Arabic, Hebrew or an emoji need LuaLaTeX with OpenType
fonts (``engine`` chooses, by the text).  Either way the text prints as
written: TeX's special characters are escaped, straight quotes stay straight,
no two characters merge into a ligature (``--``, ``<<``, ``,,``), and
characters that print nothing or move the text about (control characters,
zero-width spaces, bidirectional overrides, line separators) are dropped.
"""

from __future__ import annotations

import unicodedata

PDFLATEX = "pdflatex"
LUALATEX = "lualatex"

# What pdfLaTeX's utf8 input with T1/TS1 and Latin Modern prints (checked against
# a real compile): ASCII, Latin-1, Latin Extended-A but for nine letters T1 lacks,
# Romanian's comma accents and the common punctuation.
_T1_MISSING = set("\u0126\u0127\u0138\u013f\u0140\u0149\u0166\u0167\u017f")
_PDFLATEX_EXTRA = set("\u0218\u0219\u021a\u021b\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e"
                      "\u2020\u2021\u2022\u2026\u2030\u2039\u203a\u20ac\u2122")

_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    # Straight quotes: T1 and TeX ligatures would print ` and ' as curly ones.
    "`": r"\textasciigrave{}", "'": r"\textquotesingle{}", '"': r"\textquotedbl{}",
}
# Pairs TeX's fonts would merge into one glyph (-- – , << « , ,, „): kept apart.
_LIGATURE_STARTS = set("-<>,")
_APART = r"\kern0pt{}"
# Joiners shape emoji sequences and Persian words: the only format characters kept.
_KEPT_FORMAT = {"\u200c", "\u200d"}
_RTL = {"R", "AL"}


def clean(text: str) -> str:
    """The text without characters that print nothing or reorder it; line and paragraph separators become spaces."""
    kept = []
    for c in text:
        category = unicodedata.category(c)
        if category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and c not in _KEPT_FORMAT):
            continue
        else:
            kept.append(c)
    return "".join(kept)


def pdflatex_prints(c: str) -> bool:
    code = ord(c)
    return (32 <= code < 127 or (0xA0 <= code <= 0x17F and c not in _T1_MISSING)
            or c in _PDFLATEX_EXTRA or c in _KEPT_FORMAT)


def engine(texts) -> str:
    """The TeX engine that prints every one of ``texts``: pdfLaTeX where it can, else LuaLaTeX."""
    if all(pdflatex_prints(c) for text in texts for c in clean(text or "")):
        return PDFLATEX
    return LUALATEX


def escape(text: str) -> str:
    """``text`` as LaTeX that prints it as written (right-to-left runs wrapped for LuaLaTeX)."""
    text = clean(text)
    out = []
    for i, c in enumerate(text):
        if c in _SPECIALS:
            out.append(_SPECIALS[c])
        else:
            out.append(c)
        if c in _LIGATURE_STARTS and i + 1 < len(text) and text[i + 1] in _LIGATURE_STARTS:
            # A kern, not an empty group: LuaTeX makes ligatures across an empty group.
            out.append(_APART)
    return _right_to_left(out, text)


def _right_to_left(pieces: list[str], text: str) -> str:
    """Runs of Arabic or Hebrew (with the spaces between their words) set right to left,
    each script in its own font: one run, so that two scripts side by side keep their order."""
    result, run = [], []

    def flush():
        # Spaces at the end of a run belong to the left-to-right text around it.
        trailing = []
        while run and run[-1][1] == " ":
            trailing.insert(0, run.pop()[0])
        if run:
            scripts = []  # [font, text] by script, spaces and marks going with the letters before them
            for piece, c in run:
                font = _font(c) or (scripts[-1][0] if scripts else r"\explainerarabic")
                if scripts and scripts[-1][0] == font:
                    scripts[-1][1] += piece
                else:
                    scripts.append([font, piece])
            result.append("{\\textdir TRT" + "".join(f"{{{font} {part}}}" for font, part in scripts) + "}")
        result.extend(trailing)
        run.clear()

    for piece, c in zip(pieces_by_char(pieces, text), text):
        direction = unicodedata.bidirectional(c)
        # LuaTeX reverses a run glyph by glyph, digits too: they stay outside it.
        if direction in _RTL or (run and (c == " " or direction == "NSM")):
            run.append((piece, c))
        else:
            flush()
            result.append(piece)
    flush()
    return "".join(result)


def _font(c: str) -> str | None:
    """The font of a right-to-left letter; None for what goes with the letters around it."""
    if unicodedata.bidirectional(c) not in _RTL:
        return None
    return r"\explainerarabic" if _is_arabic(c) else r"\explainerhebrew"


def pieces_by_char(pieces: list[str], text: str) -> list[str]:
    """``escape``'s output regrouped one entry per character of ``text`` (the kern that keeps two apart joins the first)."""
    grouped = []
    for piece in pieces:
        if piece == _APART and grouped:
            grouped[-1] += piece
        else:
            grouped.append(piece)
    assert len(grouped) == len(text)
    return grouped


def _is_arabic(c: str) -> bool:
    return "ARABIC" in unicodedata.name(c, "")


def uses_right_to_left(texts) -> dict[str, bool]:
    """Which right-to-left fonts the texts need: ``{"arabic": …, "hebrew": …}``."""
    letters = [c for text in texts for c in clean(text or "") if unicodedata.bidirectional(c) in _RTL]
    return {"arabic": any(_is_arabic(c) for c in letters), "hebrew": any(not _is_arabic(c) for c in letters)}
