"""What a user may write for a quantity, and the key it names.

People write ``out_h1`` as ``out_h1``, ``out_{h1}``, ``\\text{out}_{h1}`` or
``out_{h_1}``, and ``dE_total/dw5`` as
``\\frac{\\partial E_{total}}{\\partial w_5}``.  All of these are reduced to a
canonical spelling (no spaces, braces, ``_``, ``^``, commas or backslashes)
and looked up in a table built from the derivation itself: its neurons,
weights and biases, every key of its values, and every partial derivative its
equations print (so ``∂E_o1/∂out_o1``, which the document writes inside the
error signal, names ``dE_total/dout_o1``).

The table also knows which quantities a student may mix up: quantities of the
same kind (the inputs, the weights into one layer, the outputs of one layer)
and a neuron's net input and output.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

from ..maths import shapes
from ..maths.formulas import Partial, Sym
from ..maths.optimizers import hyper_parameters, is_optimizer_key

_NOISE = re.compile(r"\\(?:text|textrm|textit|mathrm|mathit|mathbf|mathsf|mathcal|boldsymbol|operatorname)\b|[\s{}_^,\\]")

# Subscripts and superscripts as students type them (outₕ₁, w₅⁺): the letters themselves.
_SCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚₛₜᵤᵥₓ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾′",
                         "0123456789aehijklmnopstuvx0123456789+-()'")

# Other names for a quantity, on canonical spellings: (pattern, replacement), tried in turn until
# one gives a name of the network.  More notations register theirs with ``register_alias``.
ALIASES: list[tuple[re.Pattern, str]] = []


def register_alias(pattern: str, replacement: str) -> None:
    """Let a canonical spelling matching ``pattern`` (whole) also be read as ``replacement`` (``re.sub`` syntax)."""
    ALIASES.append((re.compile(pattern), replacement))


# δ_o1, \delta_{o1}, delta_o1: the error signal ∂E_total/∂net of the neuron.
register_alias(r"(?:delta|δ)(?:net)?([a-z]\w*)", r"dEtotal/dnet\1")
# w5_new, w5', w5^{new}, w5^{(1)}, w5(new): the weight after the update.
register_alias(r"(.+?)(?:new|'|\(new\)|\(1\)|next)", r"\1+")
# ∂E/∂w5, dE/dw5, dEtot/dw5: of the total error.
register_alias(r"d(?:E|Etot|Error|L|C|J)/d(.+)", r"dEtotal/d\1")
# dEtotal/dw5 written without the d of the denominator's name dropped: dE_total/w5 is not meant; nothing to do.
# E_total^{(2)}, out_o1^{(2)}: sample 2's quantity, as the document prints it.
register_alias(r"(.+?)\((\d+)\)", r"\1[\2]")
# w5 after the update (w5@1): the updated weight; E_total_new, out_o1': the values after one round.
register_alias(r"([wb]\w*?)@1", r"\1+")
register_alias(r"(Etotal|out[a-z]\w*?)(?:new|\+|')", r"\1@1")
# out_o1[2]@1 written as out_o1@1[2]
register_alias(r"(.+?)@(\d+)\[(\d+)\]", r"\1[\3]@\2")

# A mini-batch's quantities (E_total[B1], w5+[B1]): printed E_{\mathcal{B}_1}, w_5^{(\mathcal{B}_1)}.
_BATCH_KEY = re.compile(r".+\[B\d+\]")
# ∂E_B1/∂w5, dE_B1/dw5: the gradient of mini-batch 1's error.
register_alias(r"d(?:E|Etotal|L|J)B(\d+)/d(.+)", r"dEtotal/d\2[B\1]")

# The learning rate goes by several letters (the source names η, α and ϵ).
_LEARNING_RATE = ("eta", "η", "alpha", "α", "epsilon", "ϵ", "varepsilon")
_OPTIMIZER_LETTERS = {"alpha": ("alpha", "α"), "epsilon": ("epsilon", "ϵ", "varepsilon")}


def canonical(text: str) -> str:
    """``out_{h1}`` → ``outh1``, ``\\text{out}_{h1}`` → ``outh1``, ``w_5^+`` → ``w5+``, ``\\eta`` → ``eta``."""
    return _NOISE.sub("", text.translate(_SCRIPTS))


def _aliases(text: str):
    """The other canonical spellings of ``text`` the aliases give, one step each."""
    for pattern, replacement in ALIASES:
        match = pattern.fullmatch(text)
        if match:
            yield match.expand(replacement)


class Names:
    """The keys of one derivation's quantities, by the ways a user writes them."""

    def __init__(self, derivation) -> None:
        self.derivation = derivation
        self.values = derivation.values
        self.parameters = derivation.parameters
        # The table depends on the shape and on which quantities there are, never on their numbers:
        # a class's sheets share it.
        tables = shapes.work_for(derivation.spec).tables
        which = ("names", tuple(self.values), tuple(self.parameters), tuple(derivation.equations))
        if which not in tables:
            tables[which] = self._tables(derivation)
        self._keys, self._partials, self._kinds, self._transposed, self._counterparts, self.read = tables[which]

    @staticmethod
    def _tables(derivation) -> tuple:
        network = derivation.network
        spellings: dict[str, set[str]] = defaultdict(set)
        partials: dict[tuple[str, str], set[str]] = defaultdict(set)

        def spell(key: str, *texts: str) -> None:
            for text in (key, *texts):
                spellings[canonical(text)].add(key)

        for layer in network.layers:
            for neuron in layer:
                spell(neuron.out_key, neuron.out_tex, f"out_{neuron.name}")
                if neuron.layer:
                    spell(neuron.net_key, neuron.net_tex)
                    spell(neuron.out_key, neuron.name)  # h1 = 0.5933: the neuron's output
        for parameter in (*network.weights, *network.biases):
            spell(parameter.key, parameter.tex)
            spell(parameter.updated_key, parameter.updated_tex)
        for output in network.outputs:
            spell(f"target_{output.name}", f"target_{{{output.tex}}}")
            spell(f"E_{output.name}", f"E_{{{output.tex}}}")
        spell("E_total", "E_{total}")
        # Where the optimizer has an α or an ε of its own (RMSProp, Adam), they are not the learning rate.
        own = hyper_parameters(derivation.spec.optimizer)
        taken = {name for key, names in _OPTIMIZER_LETTERS.items() if key in own for name in names}
        spell("eta", *(name for name in _LEARNING_RATE if name not in taken))
        for key in (*derivation.values, *derivation.parameters):
            spell(key)
            of, slash, wrt = key.partition("/")
            if slash and of.startswith("d") and wrt.startswith("d"):
                partials[canonical(of[1:]), canonical(wrt[1:])].add(key)
        # The optimizer's state as the document prints it: m_{w_5,1}, \hat{v}_{w_5,2}, w_5^{(2)}, E_{reg}.
        for key, equation in derivation.equations.items():
            if (is_optimizer_key(key) or _BATCH_KEY.fullmatch(key)) and isinstance(equation.forms[0], Sym):
                spell(key, equation.forms[0].tex)
        for equation in derivation.equations.values():
            for node in _partials(equation.forms):
                partials[canonical(node.of.tex), canonical(node.wrt.tex)].add(node.key)

        # A spelling that could mean two quantities names neither.
        names = {text: keys.pop() for text, keys in spellings.items() if len(keys) == 1}
        derivatives = {pair: keys.pop() for pair, keys in partials.items() if len(keys) == 1}
        by_ends = {(w.source.layer, w.source.index, w.target.index): w for w in network.weights}
        transposed = {}
        for w in network.weights:
            twin = by_ends.get((w.source.layer, w.target.index, w.source.index))
            if twin is not None and twin != w:
                transposed[w.key] = twin.key
                transposed[w.updated_key] = twin.updated_key
        counterparts = {}
        for layer in network.layers[1:]:
            for neuron in layer:
                counterparts[neuron.out_key] = neuron.net_key
                counterparts[neuron.net_key] = neuron.out_key
        # ``read``: what a sheet's reader made of a name, by its text, for every sheet of these quantities.
        return names, derivatives, _kinds(network), transposed, counterparts, {}

    def key(self, text: str) -> str | None:
        """The key ``text`` names (``out_{h1}`` → ``out_h1``), or None."""
        spelling = canonical(text)
        for candidate in (spelling, *_aliases(spelling)):
            key = self._keys.get(candidate)
            if key is None and candidate.startswith("out"):
                key = self._keys.get(candidate[3:])  # out_{i1}: the input itself
            if key is not None and self.exists(key):
                return key
        return None

    def partial(self, of: str, wrt: str) -> str | None:
        """The key of ∂of/∂wrt (``E_{total}``, ``w_5`` → ``dE_total/dw5``), or None."""
        of, wrt = canonical(of), canonical(wrt)
        for numerator in (of, *(["Etotal"] if of in _TOTAL_ERROR else [])):
            key = self._partials.get((numerator, wrt))
            if key is None:
                key = self.key(f"d{numerator}/d{wrt}")
            if key in self.values:
                return key
        return None

    def exists(self, key: str) -> bool:
        return key in self.values or key in self.parameters

    def partners(self, key: str) -> tuple[str, ...]:
        """The other quantities of ``key``'s kind, the ones a slip of the pen puts in its place.

        A weight's transposed twin (w3: i1→h2 for w2: i2→h1) comes first:
        reading the weight matrix the wrong way round is the usual slip.
        """
        twin = self._transposed.get(key)
        rest = [k for k in self._kinds.get(key, ()) if k not in (key, twin)]
        return tuple([twin] + rest if twin else rest)

    def counterpart(self, key: str) -> str | None:
        """``net_h1`` for ``out_h1`` and back: the pair a student most often confuses."""
        return self._counterparts.get(key)


# What students call the total error in a derivative: ∂E/∂w5.
_TOTAL_ERROR = ("E", "Etot", "L", "C", "J", "Error")


def _partials(forms):
    """Every ``Partial`` record with a key inside the formulas ``forms``."""
    stack = list(forms)
    while stack:
        node = stack.pop()
        if isinstance(node, Partial):
            if node.key is not None:
                yield node
        elif dataclasses.is_dataclass(node):
            for field in dataclasses.fields(node):
                value = getattr(node, field.name)
                stack.extend(value if isinstance(value, tuple) else (value,))


def _kinds(network) -> dict[str, tuple[str, ...]]:
    """Each key's group of quantities of the same kind."""
    groups = [
        tuple(n.out_key for n in network.inputs),
        tuple(f"target_{o.name}" for o in network.outputs),
        tuple(b.key for b in network.biases),
    ]
    for layer in range(1, len(network.layers)):
        weights = network.weights_into_layer(layer)
        groups.append(tuple(w.key for w in weights))
        groups.append(tuple(w.updated_key for w in weights))
        groups.append(tuple(n.out_key for n in network.layers[layer]))
        groups.append(tuple(n.net_key for n in network.layers[layer]))
    return {key: group for group in groups for key in group}
