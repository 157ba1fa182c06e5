"""The user's text in LaTeX: printed as written in any script, the engine chosen by the text."""

from __future__ import annotations

import subprocess
import unicodedata

import pytest

import explainer
from explainer.outputs import latex_text, pdf
from explainer.spec.reading import with_overrides
from conftest import require_tool


@pytest.mark.parametrize("text", ["A Step by Step Backpropagation Example", "Zoë Ångström, Łódź & Ştefan", "“Quotes” – €5…"])
def test_latin_text_stays_with_pdflatex(text):
    assert latex_text.engine([text, None, ""]) == "pdflatex"


@pytest.mark.parametrize("text", ["Ωμέγα", "Привет", "反向传播", "逆伝播", "역전파", "مرحبا", "שלום", "🧠", "Ħ"])
def test_other_scripts_need_lualatex(text):
    assert latex_text.engine(["Title", text]) == "lualatex"


def test_invisible_and_control_characters_are_dropped():
    # zero-width space, right-to-left override, escape, a NUL; line and paragraph separators are spaces
    assert latex_text.clean("a\u200bb\u202ec\x1bd\x00e\u2028f\u2029g") == "abcde f g"
    assert latex_text.clean("👩\u200d💻") == "👩\u200d💻"  # a joiner makes one emoji of two
    assert latex_text.engine(["plain\u200b\u202e\x1b"]) == "pdflatex"


def test_tex_specials_quotes_and_ligatures_print_as_written():
    assert latex_text.escape("50% & $5 #1 a_b {x} ~ ^ \\") == (
        r"50\% \& \$5 \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert latex_text.escape("`a' \"b\"") == r"\textasciigrave{}a\textquotesingle{} \textquotedbl{}b\textquotedbl{}"
    assert latex_text.escape("a--b <<c>> ,,d") == r"a-\kern0pt{}-b <\kern0pt{}<c>\kern0pt{}> ,\kern0pt{},d"


def test_right_to_left_runs_are_set_right_to_left_in_their_own_fonts():
    assert latex_text.escape("Hi مرحبا بالعالم and שלום 2025") == (
        r"Hi {\textdir TRT{\explainerarabic مرحبا بالعالم}} and {\textdir TRT{\explainerhebrew שלום}} 2025")
    # Side by side, the two scripts stay one run, so that their order is kept.
    assert latex_text.escape("مرحبا שלום") == r"{\textdir TRT{\explainerarabic مرحبا }{\explainerhebrew שלום}}"
    assert latex_text.uses_right_to_left(["מ", None]) == {"arabic": False, "hebrew": True}


def test_the_document_asks_for_its_engine():
    plain = explainer.derive().to_latex()
    assert not plain.startswith("%") and "\\usepackage[T1]{fontenc}" in plain and pdf.engine(plain) == "pdflatex"
    greek = explainer.derive(with_overrides(explainer.load_spec(), {"title": "Ωμέγα"})).to_latex()
    assert greek.startswith("% !TEX program = lualatex\n") and pdf.engine(greek) == "lualatex"
    assert "\\usepackage{fontspec}" in greek and "fontenc" not in greek and "\\title{Ωμέγα}" in greek
    assert "explainerarabic" not in greek  # only the fonts the text needs


# One title block per script, with what must come out of the PDF again.
SCRIPTS = {
    "greek": {"title": "Οπισθοδιάδοση βήμα προς βήμα", "author": "Ὀδυσσεύς"},
    "cyrillic": {"title": "Обратное распространение ошибки", "course": "Нейронные сети"},
    "cjk": {"title": "反向传播 逆伝播 역전파", "date": "二〇二五年"},
    "arabic and hebrew": {"title": "مرحبا بالعالم", "author": "שלום עולם"},
    "emoji and quotes": {"title": "Backprop 🧠 `x' -- <<y>>", "author": "Zoë\u200b\u202e\x1b Ada\u2028Lovelace"},
}
EXPECTED = {
    "greek": ["Οπισθοδιάδοση βήμα προς βήμα", "Ὀδυσσεύς"],
    "cyrillic": ["Обратное распространение ошибки", "Нейронные сети"],
    "cjk": ["反向传播 逆伝播 역전파", "二〇二五年"],
    "arabic and hebrew": ["مرحبا بالعالم", "שלום עולם"],
    "emoji and quotes": ["Backprop 🧠 `x' -- <<y>>", "Zoë Ada Lovelace"],
}


@pytest.fixture(scope="module")
def script_pdfs(tmp_path_factory):
    require_tool("latexmk")
    require_tool("lualatex")
    directory = tmp_path_factory.mktemp("scripts")
    spec = explainer.load_spec({"network": {"layers": [1, 1], "weights": [[[0.5]]], "biases": [0.1]},
                                "data": {"inputs": [1.0], "targets": [0.5]}, "training": {"iterations": 2}})
    documents = {}
    for name, fields in SCRIPTS.items():
        document, report = pdf.compile_pdf(explainer.derive(with_overrides(spec, fields)).to_latex())
        path = directory / f"{name}.pdf"
        path.write_bytes(document)
        documents[name] = (path, report)
    return documents


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_a_title_in_any_script_comes_out_of_the_pdf_as_written(script_pdfs, name):
    path, report = script_pdfs[name]
    assert not report.problems(), report.problems()
    text = subprocess.run([require_tool("pdftotext"), "-l", "1", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    # pdftotext marks a right-to-left run with embedding characters, which the reader does not see, and
    # reads some glyphs as their compatibility characters (年 as U+F98E): compared as the reader sees them.
    text = unicodedata.normalize("NFKC", " ".join(text.replace("\u202b", "").replace("\u202c", "").split()))
    for expected in EXPECTED[name]:
        assert expected in text, (expected, text[:300])
