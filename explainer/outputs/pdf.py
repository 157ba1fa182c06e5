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
import select
import shutil
import subprocess
import tempfile
import time
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


def compile_pdf(tex: str, first_pass: FirstPass | None = None) -> tuple[bytes, LogReport]:
    """The PDF of the LaTeX document ``tex``, and the report on its log.

    ``first_pass``, started on the beginning of ``tex`` by ``start_first_pass``,
    saves the time of the preamble: its pass is finished on the rest of ``tex``
    and latexmk goes on from there.  If ``tex`` does not start with what it
    was given, it is cancelled and ``tex`` is compiled from the start.
    """
    if first_pass is not None:
        compiled = first_pass.finish(tex)
        if compiled is not None:
            return compiled
    program = engine(tex)
    latexmk = _tool("latexmk")
    _tool(program, LUALATEX_PACKAGES if program == "lualatex" else DEBIAN_PACKAGES)
    with tempfile.TemporaryDirectory(prefix="explainer-pdf-") as directory:
        source = Path(directory) / f"{JOB}.tex"
        source.write_text(tex, encoding="utf-8")
        return _latexmk(latexmk, program, directory)


def _environment() -> dict:
    return {**os.environ, "FORCE_SOURCE_DATE": "1", "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}


def _latexmk(latexmk: str, program: str, directory: str) -> tuple[bytes, LogReport]:
    """latexmk's compile of the document in ``directory``: as many passes as it needs."""
    command = [latexmk, "-pdflua" if program == "lualatex" else "-pdf", "-norc", "-interaction=nonstopmode",
               "-halt-on-error", f"-usepretex={REPRODUCIBLE[program]}", f"{JOB}.tex"]
    try:
        subprocess.run(command, cwd=directory, env=_environment(), capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds") from None
    log, report = _log(directory)
    pdf = Path(directory) / f"{JOB}.pdf"
    if report.errors or not pdf.exists():
        raise _failure(log, report)
    return pdf.read_bytes(), report


def _log(directory: str) -> tuple[str, LogReport]:
    log_file = Path(directory) / f"{JOB}.log"
    # pdfTeX writes bytes, LuaTeX UTF-8: read both without failing on either.
    log = log_file.read_bytes().decode("utf-8", errors="replace") if log_file.exists() else ""
    return log, check_log(log)


def start_first_pass(program: str = "pdflatex") -> FirstPass | None:
    """The engine's first pass over a document not made yet, started now (it loads while
    the document is made: ``begin`` gives it the beginning, ``finish`` the whole); None
    where it cannot be (no TeX, no named pipes): ``compile_pdf`` then compiles from the start."""
    if not hasattr(os, "mkfifo") or program not in REPRODUCIBLE:
        return None
    latexmk, engine_path = shutil.which("latexmk"), shutil.which(program)
    if latexmk is None or engine_path is None:
        return None
    return FirstPass(program, engine_path, latexmk)


class FirstPass:
    """The engine's first pass over a document, reading it while it is being written.

    The document is a named pipe in a directory of its own: the engine reads
    and digests the beginning (``begin``) as soon as it is sent, and waits for
    the rest, which ``finish`` sends.  The engine's command line is latexmk's own (with the
    first line left for the document: the pipe can be read only once), so
    that latexmk, run afterwards on the real file, takes this pass as its own
    first and decides from its results which passes remain.
    """

    def __init__(self, program: str, engine_path: str, latexmk: str) -> None:
        self.beginning = ""
        self.program = program
        self._latexmk = latexmk
        self._directory = tempfile.mkdtemp(prefix="explainer-pdf-")
        self._done = False
        self._end = None
        try:
            self._pipe = Path(self._directory) / f"{JOB}.tex"
            os.mkfifo(self._pipe)
            # Opened for reading too, this end never waits for the engine: the engine may open and
            # close the file before it reads it (LaTeX's \input first checks that it exists), and what
            # is written stays in the pipe until it is read.
            self._end = os.open(self._pipe, os.O_RDWR | os.O_NONBLOCK)
            command = [engine_path, "-no-parse-first-line", "-interaction=nonstopmode", "-halt-on-error",
                       "-recorder", f"{REPRODUCIBLE[program]}\\input{{{JOB}.tex}}"]
            self._process = subprocess.Popen(command, cwd=self._directory, env=_environment(),
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)
        except BaseException:
            if self._end is not None:
                os.close(self._end)
            shutil.rmtree(self._directory, ignore_errors=True)
            raise
        self._unsent = b""

    def begin(self, beginning: str) -> None:
        """Send the beginning of the document (its preamble, say): the engine reads it at once."""
        if self._done or self.beginning:
            raise RuntimeError("the beginning of this first pass is sent")
        self.beginning = beginning
        self._unsent = self._send(beginning.encode("utf-8"))

    def _send(self, data: bytes, deadline: float | None = None) -> bytes:
        """Write ``data`` into the pipe; without a deadline only what fits now, and return what is left.
        With one, wait for the engine to read, until it is done or stops (an error: its log says which)."""
        while data:
            try:
                data = data[os.write(self._end, data):]
            except BlockingIOError:
                if deadline is None:
                    break
                if self._process.poll() is not None:
                    return b""
                if time.monotonic() > deadline:
                    raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds") from None
                select.select([], [self._end], [], 0.1)
        return data

    def _waiting(self) -> int:
        """How many bytes in the pipe the engine has not read yet."""
        import array
        import fcntl
        import termios  # POSIX only, as named pipes are

        waiting = array.array("i", [0])
        fcntl.ioctl(self._end, termios.FIONREAD, waiting)
        return waiting[0]

    def finish(self, tex: str) -> tuple[bytes, LogReport] | None:
        """The PDF of ``tex`` and the report on the final pass's log, or None (and the pass
        cancelled) if ``tex`` does not start with the beginning sent or asks for another engine."""
        if self._done:
            raise RuntimeError("this first pass is over")
        if not tex.startswith(self.beginning) or engine(tex) != self.program:
            self.cancel()
            return None
        try:
            deadline = time.monotonic() + TIMEOUT
            self._send(self._unsent + tex[len(self.beginning):].encode("utf-8"), deadline)
            # The end of the file, once the engine has read what is in the pipe: closed before the
            # engine opened it, the pipe would be gone, and the engine would wait for another.
            while self._waiting() and self._process.poll() is None:
                if time.monotonic() > deadline:
                    raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds")
                time.sleep(0.005)
            os.close(self._end)
            self._end = None
            try:
                self._process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds") from None
            log, report = _log(self._directory)
            if report.errors:
                raise _failure(log, report)
            # latexmk reads the real file, and runs what passes remain.
            self._pipe.unlink()
            self._pipe.write_text(tex, encoding="utf-8")
            return _latexmk(self._latexmk, self.program, self._directory)
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the engine and remove its directory (nothing happens the second time)."""
        if self._done:
            return
        self._done = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._end is not None:
            os.close(self._end)
            self._end = None
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> FirstPass:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


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
