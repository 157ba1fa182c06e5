"""Compiling the LaTeX document to PDF with the real TeX toolchain.

``compile_pdf`` runs latexmk in a temporary directory of its own, with pdfLaTeX or,
for a document whose first line asks for it (``% !TEX program = lualatex``, as
editors read it too), LuaLaTeX,
which it removes afterwards, and returns the PDF's bytes with a report on the
LaTeX log: errors, overfull boxes, undefined references.  Writing the PDF is
left to the caller.  Given a ``FirstPass`` (``start_first_pass``), the engine
runs the same passes as latexmk would, each started on the preamble before
the rest of the document is known.

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
    saves the time of the preamble, in the first pass and in the second: its
    passes are finished on the rest of ``tex``.  If ``tex`` does not start with
    what it was given, it is cancelled and ``tex`` is compiled from the start.
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
    """The engine's passes over a document not made yet, started now (they load while
    the document is made: ``begin`` gives them the beginning, ``finish`` the whole); None
    where they cannot be (no TeX, no named pipes): ``compile_pdf`` then compiles from the start.
    latexmk is asked for as ``compile_pdf`` asks for it, though the passes do without it: a PDF
    needs the same tools whichever way it is compiled."""
    if not hasattr(os, "mkfifo") or program not in REPRODUCIBLE:
        return None
    latexmk, engine_path = shutil.which("latexmk"), shutil.which(program)
    if latexmk is None or engine_path is None:
        return None
    return FirstPass(program, engine_path)


# latexmk's limit on the passes of one compile.
MAX_PASSES = 5
# What a pass writes that no later pass reads: left behind when the next pass starts.
_NOT_CARRIED = {f"{JOB}.{suffix}" for suffix in ("tex", "log", "fls", "pdf")}


class _Engine:
    """One run of the engine over a document that it reads through a named pipe, in a directory
    of its own, with latexmk's command line (the first line left for the document: the pipe can
    be read only once)."""

    def __init__(self, program: str, engine_path: str, directory: str) -> None:
        self.directory = directory
        self._end = None
        os.mkdir(directory)
        pipe = Path(directory) / f"{JOB}.tex"
        os.mkfifo(pipe)
        # Opened for reading too, this end never waits for the engine: the engine may open and
        # close the file before it reads it (LaTeX's \input first checks that it exists), and what
        # is written stays in the pipe until it is read.
        self._end = os.open(pipe, os.O_RDWR | os.O_NONBLOCK)
        try:
            command = [engine_path, "-no-parse-first-line", "-interaction=nonstopmode", "-halt-on-error",
                       "-recorder", f"{REPRODUCIBLE[program]}\\input{{{JOB}.tex}}"]
            self.process = subprocess.Popen(command, cwd=directory, env=_environment(), stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except BaseException:
            os.close(self._end)
            self._end = None
            raise

    def send(self, data: bytes, deadline: float | None = None) -> bytes:
        """Write ``data`` into the pipe; without a deadline only what fits now, and return what is left.
        With one, wait for the engine to read, until it is done or stops (an error: its log says which)."""
        while data:
            try:
                data = data[os.write(self._end, data):]
            except BlockingIOError:
                if deadline is None:
                    break
                if self.process.poll() is not None:
                    return b""
                _in_time(deadline)
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

    def end(self, data: bytes, deadline: float) -> tuple[str, LogReport]:
        """Send the rest of the document, wait for the engine to finish, and read its log;
        an error in the log is raised."""
        self.send(data, deadline)
        # The end of the file, once the engine has read what is in the pipe: closed before the
        # engine opened it, the pipe would be gone, and the engine would wait for another.
        while self._waiting() and self.process.poll() is None:
            _in_time(deadline)
            time.sleep(0.005)
        os.close(self._end)
        self._end = None
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds") from None
        log, report = _log(self.directory)
        if report.errors:
            raise _failure(log, report)
        return log, report

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._end is not None:
            os.close(self._end)
            self._end = None


def _in_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise LatexFailed(f"cannot make a PDF: LaTeX did not finish within {TIMEOUT} seconds")


def _generated(directory: str) -> dict[str, bytes]:
    """The files a pass wrote that a later pass may read (the .aux, Beamer's .nav), by their
    path in the directory."""
    top = Path(directory)
    return {path.relative_to(top).as_posix(): path.read_bytes() for path in sorted(top.rglob("*"))
            if path.is_file() and path.relative_to(top).as_posix() not in _NOT_CARRIED}


def _rerun_needed(directory: str, log: str, before: dict[str, bytes]) -> bool:
    """latexmk's test: a file of the job's own that the pass read, or looked for and did not
    find, is not what it was when the pass began (the pass wrote it anew, differently)."""
    recorder = Path(directory) / f"{JOB}.fls"
    recorded = recorder.read_text(encoding="utf-8", errors="replace").splitlines() if recorder.exists() else []
    read = {line[len("INPUT "):] for line in recorded if line.startswith("INPUT ")}
    read |= set(re.findall(r"^No file (.+)\.$", log, re.MULTILINE))
    names = {os.path.normpath(name) for name in read if not os.path.isabs(name)} - {f"{JOB}.tex"}
    for name in sorted(name for name in names if not name.startswith("..")):
        path = Path(directory) / name
        if (path.read_bytes() if path.is_file() else None) != before.get(Path(name).as_posix()):
            return True
    return False


class FirstPass:
    """The engine's passes over a document, the first reading it while it is being written.

    The document is a named pipe in a directory of its own: the engine reads
    and digests the beginning (``begin``) as soon as it is sent, and waits for
    the rest, which ``finish`` sends.  A second engine, in a directory of its
    own, reads the preamble at the same time and waits before
    ``\\begin{document}``, where LaTeX reads the .aux: when the first pass has
    written it, the second goes on with it.  As latexmk does, passes follow
    while one changes a file that it read (up to ``MAX_PASSES``), with the
    same command line as latexmk's, so the PDF is the one latexmk makes.
    The beginning must read none of the files the passes write before
    ``\\begin{document}`` (LaTeX's own preamble reads none).
    """

    def __init__(self, program: str, engine_path: str) -> None:
        self.beginning = ""
        self.program = program
        self._engine_path = engine_path
        self._directory = tempfile.mkdtemp(prefix="explainer-pdf-")
        self._done = False
        self._engines: list[_Engine] = []
        try:
            self._engines.append(_Engine(program, engine_path, os.path.join(self._directory, "1")))
            self._engines.append(_Engine(program, engine_path, os.path.join(self._directory, "2")))
        except BaseException:
            self._stop()
            raise
        self._process = self._engines[0].process
        self._unsent: list[bytes] = [b"", b""]
        self._head = 0  # how much of the beginning the second engine has been sent

    def begin(self, beginning: str) -> None:
        """Send the beginning of the document (its preamble, say): the engines read it at once."""
        if self._done or self.beginning:
            raise RuntimeError("the beginning of this first pass is sent")
        self.beginning = beginning
        data = beginning.encode("utf-8")
        found = re.search(rb"^\\begin\{document\}", data, re.MULTILINE)
        self._head = found.start() if found else 0
        self._unsent = [self._engines[0].send(data), self._engines[1].send(data[:self._head])]

    def finish(self, tex: str) -> tuple[bytes, LogReport] | None:
        """The PDF of ``tex`` and the report on the final pass's log, or None (and the passes
        cancelled) if ``tex`` does not start with the beginning sent or asks for another engine."""
        if self._done:
            raise RuntimeError("this first pass is over")
        if not tex.startswith(self.beginning) or engine(tex) != self.program:
            self.cancel()
            return None
        try:
            deadline = time.monotonic() + TIMEOUT
            data = tex.encode("utf-8")
            sent = len(self.beginning.encode("utf-8"))
            first, second = self._engines
            log, report = first.end(self._unsent[0] + data[sent:], deadline)
            before: dict[str, bytes] = {}
            directory = first.directory
            for number in range(2, MAX_PASSES + 1):
                if not _rerun_needed(directory, log, before):
                    break
                # Whatever the last pass left, as latexmk's passes find it in their one directory.
                before = _generated(directory)
                if number == 2:
                    following, rest = second, self._unsent[1] + data[self._head:]
                else:
                    following, rest = _Engine(self.program, self._engine_path,
                                              os.path.join(self._directory, str(number))), data
                    self._engines.append(following)
                for name, content in before.items():
                    path = Path(following.directory) / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
                log, report = following.end(rest, deadline)
                directory = following.directory
            pdf = Path(directory) / f"{JOB}.pdf"
            if not pdf.exists():
                raise _failure(log, report)
            return pdf.read_bytes(), report
        finally:
            self.cancel()

    def _stop(self) -> None:
        for engine_run in self._engines:
            engine_run.stop()
        shutil.rmtree(self._directory, ignore_errors=True)

    def cancel(self) -> None:
        """Stop the engines and remove their directory (nothing happens the second time)."""
        if self._done:
            return
        self._done = True
        self._stop()

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
