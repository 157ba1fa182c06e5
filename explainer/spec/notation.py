"""Notations: the symbols and words a course uses for the same quantities.

A notation is a preset (the source's own, Nielsen's *Neural Networks and Deep
Learning*, Andrew Ng's deeplearning.ai, Bishop's *Pattern Recognition and
Machine Learning*) with per-symbol overrides.  It changes how quantities are
printed and named in the prose, never which quantities there are or their
values: keys (``net_h1``, ``dE_total/dw5``) stay canonical.

The symbols are the letters; how they are indexed is the notation's too:
``layers = "names"`` subscripts the neuron's name (``net_{h1}``, the
source's), ``"l"``, ``"[l]"`` and ``"(l)"`` put the layer in a superscript
(``z^2_1``, ``z^{[1]}_1``, ``a^{(1)}_1``) and number the neurons.  Weights are
``numbered`` as in the source (``w_5``) or ``indexed`` by layer and neurons,
to-from as all three books write them (``w^2_{jk}``: to j from k).

Only the standard library is used here: the command line reads specs before
anything else is imported.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass

FORMS = ("chain", "delta", "matrix", "all")
LAYER_STYLES = ("names", "l", "[l]", "(l)")
WEIGHT_STYLES = ("numbered", "indexed")
WEIGHT_ORDERS = ("to_from", "from_to")
# The multiplication sign: the source's "*", a centred dot, a cross, or none (juxtaposition).
TIMES = ("*", "\\cdot", "\\times", "juxtapose")

# The symbols a spec may override, each a piece of TeX.
SYMBOLS = ("net", "out", "prediction", "error", "total", "target", "input", "learning_rate", "signal")
# The settings a spec may override, each one of a few names.
SETTINGS = {"layers": LAYER_STYLES, "weights": WEIGHT_STYLES, "weight_order": WEIGHT_ORDERS, "times": TIMES}
# The words that name the quantities in the prose.
WORDS = ("net", "out", "total", "target", "signal")


@dataclass(frozen=True)
class Notation:
    """The preset's symbols with the spec's overrides applied; ``form`` is how the backwards pass is written."""

    preset: str = "source"
    net: str = "net"
    out: str = "out"
    prediction: str = "out"  # the output layer's outputs (Bishop's y_k)
    error: str = "E"  # one output's term of the error
    total: str = "E_{total}"
    target: str = "target"
    input: str = "i"
    learning_rate: str = "\\eta"
    signal: str = "\\delta"
    # f'(net) in the delta rule, {net} the net input and {l} the layer's mark; "": ∂out/∂net.
    derivative: str = ""
    layers: str = "names"
    weights: str = "numbered"
    weight_order: str = "to_from"
    times: str = "*"
    first_layer: int = 0  # the number of the input layer (Nielsen's is 1)
    batch_total: str = ""  # the error of a whole batch, when it has a name of its own (Ng's J)
    # The shorthand of a gradient: "d" when ∂L/∂x is written dx (Ng's dW^{[l]}, dz^{[l]}); "": none.
    gradient_prefix: str = ""
    words_net: str = "total net input"
    words_out: str = "output"
    words_total: str = "total error"
    words_target: str = "target"
    words_signal: str = "error signal"
    form: str = "chain"

    @property
    def is_source(self) -> bool:
        """Whether the symbols are the source's own (whatever the form)."""
        return dataclasses.replace(self, form="chain") == Notation()


PRESETS: dict[str, Notation] = {
    "source": Notation(),
    # Nielsen, chapter 2: z^l_j = Σ_k w^l_jk a^{l-1}_k + b^l_j, a^l_j = σ(z^l_j), cost C, δ^l_j = ∂C/∂z^l_j;
    # the input layer is layer 1 (a^1 = x).
    "nielsen": Notation(
        preset="nielsen", net="z", out="a", prediction="a", error="C", total="C", target="y", input="a",
        learning_rate="\\eta", signal="\\delta", derivative="\\sigma'({net})", layers="l", weights="indexed",
        times="juxtapose", first_layer=1,
        words_net="weighted input", words_out="activation", words_total="cost", words_target="desired output",
        words_signal="error"),
    # Ng's deeplearning.ai: z^[l] = W^[l] a^[l-1] + b^[l], a^[0] = x, loss L of an example, cost J of a batch,
    # learning rate α, dz^[l] for ∂L/∂z^[l].
    "deeplearning-ai": Notation(
        preset="deeplearning-ai", net="z", out="a", prediction="a", error="\\mathcal{L}", total="\\mathcal{L}",
        target="y", input="x", learning_rate="\\alpha", signal="dz", derivative="g^{{l}\\prime}({net})",
        layers="[l]", weights="indexed",
        times="\\cdot", batch_total="J", gradient_prefix="d",
        words_net="linear output", words_out="activation", words_total="loss", words_target="label",
        words_signal="error signal"),
    # Bishop, PRML §5.3: a_j = Σ_i w_ji z_i (the "activation" is the net input), z_j = h(a_j), outputs y_k,
    # targets t_k, error E, δ_j = ∂E/∂a_j; layers in parentheses, w^(1)_ji.
    "bishop": Notation(
        preset="bishop", net="a", out="z", prediction="y", error="E", total="E", target="t", input="x",
        learning_rate="\\eta", signal="\\delta", derivative="h'({net})", layers="(l)", weights="indexed",
        times="juxtapose", words_net="activation", words_out="output", words_total="error", words_target="target",
        words_signal="error"),
}
PRESET_NAMES = tuple(PRESETS)


_KINDS = {"layers": "layer indexing", "weights": "weight naming", "weight_order": "weight index order",
          "times": "multiplication sign"}


class NotationError(ValueError):
    """A bad notation setting; ``field`` is its key in the notation table."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message


def notation(preset: str = "source", **overrides) -> Notation:
    """The preset with ``overrides`` (symbols, settings, ``form``), each checked."""
    if preset not in PRESETS:
        raise NotationError("preset", _unknown("notation", preset, PRESET_NAMES))
    changes = {}
    for key, value in overrides.items():
        if key in SYMBOLS:
            changes[key] = check_tex(value, key)
        elif key in SETTINGS:
            changes[key] = _one_of(value, key, SETTINGS[key], _KINDS[key])
        elif key == "form":
            changes[key] = _one_of(value, key, FORMS, "form")
        else:
            known = ("preset", *SYMBOLS, *SETTINGS, "form")
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(known)}"
            raise NotationError(key, f"unknown symbol; {hint}")
    base = PRESETS[preset]
    # Symbols the preset writes with the output's letter follow it (Nielsen's inputs are a^1_j).
    for follower in ("prediction", "input"):
        if "out" in changes and follower not in changes and getattr(base, follower) == base.out:
            changes[follower] = changes["out"]
    return dataclasses.replace(base, **changes)


def notation_table(n: Notation) -> dict[str, object]:
    """The notation as a spec's ``[notation]`` table: the preset and what differs from it."""
    base = PRESETS[n.preset]
    table: dict[str, object] = {"preset": n.preset}
    for key in (*SYMBOLS, *SETTINGS, "form"):
        if getattr(n, key) != getattr(base, key):
            table[key] = getattr(n, key)
    return table


def _unknown(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "expected " + ", ".join(f"'{a}'" for a in allowed)
    return f"unknown {kind} {value!r}; {hint}"


def _one_of(value, field: str, allowed: tuple[str, ...], kind: str) -> str:
    if not isinstance(value, str):
        raise NotationError(field, "expected " + ", ".join(f"'{a}'" for a in allowed))
    if value not in allowed:
        raise NotationError(field, _unknown(kind, value, allowed))
    return value


# Commands a symbol may use: KaTeX renders all of them, pdflatex (with amsmath) too.
_COMMANDS = frozenset("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi rho varrho
sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
mathcal mathit mathrm mathbf mathsf mathtt boldsymbol hat tilde bar vec dot ddot widehat widetilde overline
ell partial nabla prime text operatorname
""".split())
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def check_tex(value, field: str) -> str:
    """``value`` if it is a symbol that KaTeX and pdflatex both typeset: balanced braces, known commands."""
    if not isinstance(value, str) or not value.strip():
        raise NotationError(field, "expected a symbol in TeX such as 'z' or '\\\\mathcal{L}'")
    if any(c in value for c in "$%#&~\n\r\t") or "\\\\" in value:
        raise NotationError(field, f"expected a symbol in TeX without $ % # & ~ or line breaks, got '{value}'")
    depth = 0
    for c in value:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            break
    if depth != 0:
        raise NotationError(field, f"expected balanced braces in '{value}'")
    if value.rstrip().endswith(("^", "_")) or re.search(r"[_^]\s*[_^]", value):
        raise NotationError(field, f"expected each ^ and _ to be followed by its script in '{value}'")
    for command in _COMMAND.findall(value):
        if command not in _COMMANDS and command not in "{}, ;!":
            close = difflib.get_close_matches(command, sorted(_COMMANDS), n=1)
            hint = f"; did you mean '\\{close[0]}'?" if close else ""
            raise NotationError(field, f"unknown TeX command '\\{command}' in '{value}'{hint}")
    return value
