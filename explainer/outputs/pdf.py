"""Compiling the LaTeX document to PDF with the real TeX toolchain.

``compile_pdf`` runs latexmk in a temporary directory of its own, with pdfLaTeX or,
for a document whose first line asks for it (``% !TEX program = lualatex``, as
editors read it too), LuaLaTeX,
which it removes afterwards, and returns the PDF's bytes with a report on the
LaTeX log: errors, overfull boxes, undefined references.  Writing the PDF is
left to the caller.

The same document always gives the same bytes: the engine is told to leave out
the creation and modification dates, the random trailer id and its banner
(``REPRODUCIBLE``), and ``SOURCE_DATE_EPOCH`` pins anything else that reads
the clock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..spec.errors import ExplainerError

# What the document needs, as Debian and Ubuntu package it.
DEBIAN_PACKAGES = ("latexmk", "texlive-latex-base", "texlive-latex-recommended", "texlive-pictures", "lmodern")
_PACKAGE_OF_FILE = {
    "tikz.sty": "texlive-pictures", "pgfplots.sty": "texlive-pictures", "pgf.sty": "texlive-pictures",
    "lmodern.sty": "lmodern", "t1lmr.fd": "lmodern", "xcolor.sty": "texlive-latex-recommended",
    "fontspec.sty": "texlive-luatex", "luaotfload.sty": "texlive-luatex", "beamer.cls": "texlive-latex-recommended",
}
# What each engine needs to leave out the dates, the trailer id and its banner.
REPRODUCIBLE = {
    "pdflatex": r"\pdfinfoomitdate=1 \pdftrailerid{} \pdfsuppressptexinfo=-1 ",
    # LuaTeX's bits: banner, file name, page number, info dictionary, dates, trailer id.
    "lualatex": r"\pdfvariable suppressoptionalinfo 623 ",
}
# LuaLaTeX, for a title in any script: the engine, and the fonts the LaTeX asks for.
LUALATEX_PACKAGES = ("texlive-luatex", "fonts-noto-core", "fonts-noto-cjk", "fonts-symbola")
PROGRAM = re.compile(r"\A% !TEX program = (\w+)\n")
JOB = "document"
TIMEOUT = 600  # seconds


class TexMissing(ExplainerError):
    """The TeX toolchain, or a LaTeX package the document uses, is not installed."""


class LatexFailed(ExplainerError):
    """LaTeX stopped with an error (for a valid spec, a bug in explainer's LaTeX)."""


@dataclass(frozen=True)
class LogReport:
    """What the LaTeX log says is wrong with the PDF's layout or references."""

    errors: tuple[str, ...] = ()
    overfull: tuple[str, ...] = ()  # "Overfull \hbox (3.2pt too wide) in paragraph at lines 10--12"
    underfull: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()  # references, citations
    floats: tuple[str, ...] = ()  # figures too large for the page
    missing: tuple[str, ...] = ()  # characters no font had: "Missing character: There is no Ω (U+03A9) in font …"

    def problems(self) -> tuple[str, ...]:
        """Everything that makes the PDF wrong or worse than it should be (underfull boxes are only loose)."""
        return self.errors + self.overfull + self.undefined + self.floats + self.missing


def check_log(log: str) -> LogReport:
    """The errors and layout warnings of a pdfLaTeX log."""
    lines = log.splitlines()
    return LogReport(
        errors=tuple(line for line in lines if line.startswith("! ")),
        overfull=tuple(line for line in lines if line.startswith("Overfull \\")),
        underfull=tuple(line for line in lines if line.startswith("Underfull \\")),
        undefined=tuple(line for line in lines if re.match(r"LaTeX Warning: (Reference|Citation) .* undefined", line)
                        or line.startswith("LaTeX Warning: There were undefined references")),
        floats=tuple(line for line in lines if line.startswith("LaTeX Warning: Float too large")),
        missing=tuple(dict.fromkeys(line for line in lines if line.startswith("Missing character: There is no"))),
    )


def engine(tex: str) -> str:
    """The TeX engine the document asks for in its first line; pdflatex if it asks for none."""
    found = PROGRAM.match(tex)
    return found.group(1) if found and found.group(1) in REPRODUCIBLE else "pdflatex"


def compile_pdf(tex: str) -> tuple[bytes, LogReport]:
    """The PDF of the LaTeX document ``tex``, and the report on its log."""
    program = engine(tex)
    latexmk = _tool("latexmk")
    _tool(program, LUALATEX_PACKAGES if program == "lualatex" else DEBIAN_PACKAGES)
    with tempfile.TemporaryDirectory(prefix="explainer-pdf-") as directory:
        source = Path(directory) / f"{JOB}.tex"
        source.write_text(tex, encoding="utf-8")
        command = [latexmk, "-pdflua" if program == "lualatex" else "-pdf", "-norc", "-interaction=nonstopmode",
                   "-halt-on-error", f"-usepretex={REPRODUCIBLE[program]}", source.name]
        environment = {**os.environ, "FORCE_SOURCE_DATE": "1",
                       "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
        try:
            subprocess.run(command, cwd=directory, env=environment, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds") from None
        log_file = Path(directory) / f"{JOB}.log"
        # pdfTeX writes bytes, LuaTeX UTF-8: read both without failing on either.
        log = log_file.read_bytes().decode("utf-8", errors="replace") if log_file.exists() else ""
        report = check_log(log)
        pdf = Path(directory) / f"{JOB}.pdf"
        if report.errors or not pdf.exists():
            raise _failure(log, report)
        return pdf.read_bytes(), report


def _tool(name: str, packages=DEBIAN_PACKAGES) -> str:
    path = shutil.which(name)
    if path is None:
        raise TexMissing(f"cannot make a PDF: {name} is not installed; {install_hint(packages)}")
    return path


def install_hint(packages) -> str:
    return f"on Debian or Ubuntu run: apt-get install {' '.join(packages)}"


def missing_file(log: str) -> str | None:
    """The file LaTeX could not find (``tikz.sty``), if that is why it stopped."""
    found = re.search(r"! LaTeX Error: File `([^']+)' not found", log)
    return found.group(1) if found else None


def _failure(log: str, report: LogReport) -> ExplainerError:
    missing = missing_file(log)
    if missing:
        package = _PACKAGE_OF_FILE.get(missing)
        packages = (package,) if package else DEBIAN_PACKAGES
        return TexMissing(f"cannot make a PDF: LaTeX cannot find {missing}; {install_hint(packages)}")
    if not report.errors:
        return LatexFailed("cannot make a PDF: LaTeX wrote no PDF and no error (is pdflatex working?)")
    line = re.search(r"^l\.(\d+)", log, re.MULTILINE)
    where = f" at line {line.group(1)} of the LaTeX" if line else ""
    return LatexFailed(f"cannot make a PDF: LaTeX stopped{where}: {report.errors[0][2:]} "
                       "(see it with --format latex)")
