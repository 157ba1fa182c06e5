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
from ..maths.formulas import Matrix, Partial, Sym, latex
from ..maths.optimizers import hyper_parameters, is_optimizer_key

_NOISE = re.compile(r"\\(?:text|textrm|textit|mathrm|mathit|mathbf|mathsf|mathcal|boldsymbol|operatorname)\b|[\s{}_^,\\]")

# Subscripts and superscripts as students type them (outₕ₁, w₅⁺): the letters themselves.
_SCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚₛₜᵤᵥₓ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾′",
                         "0123456789aehijklmnopstuvx0123456789+-()'")
# Greek letters typed as themselves: the commands the documents print.
_GREEK = {"δ": "delta", "η": "eta", "α": "alpha", "σ": "sigma", "∇": "nabla", "∂": "partial"}

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
    text = text.translate(_SCRIPTS)
    for letter, command in _GREEK.items():
        text = text.replace(letter, command)
    return _NOISE.sub("", text)


# A derivative in the quotient's spelling, d<of>/d<wrt>: its two names.
_QUOTIENT = re.compile(r"\s*d(.+?)\s*/\s*d(.+?)\s*")

_STRICT_NOISE = re.compile(r"\\(?:text|textrm|textit|mathrm|mathit|mathbf|mathsf|boldsymbol|operatorname)\b|[\s{},\\]")
_SCRIPTS_BOTH = re.compile(r"([^_^]+)\^([^_^]+)_([^_^]+)")


def _strict(text: str) -> str:
    """``text`` spelled as ``canonical`` does, but with its ``^`` and ``_`` kept: ``w^{[2]}_{12}`` → ``w^[2]_12``."""
    text = text.translate(_SCRIPTS)
    for letter, command in _GREEK.items():
        text = text.replace(letter, command)
    return _STRICT_NOISE.sub("", text)


def _strict_forms(text: str) -> tuple[str, ...]:
    """The strict spelling of ``text``, and with its scripts the other way round (``z_1^2`` for ``z^2_1``)."""
    form = _strict(text)
    both = _SCRIPTS_BOTH.fullmatch(form)
    return (form, f"{both[1]}_{both[3]}^{both[2]}") if both else (form,)


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
        which = ("names", tuple(self.values), tuple(self.parameters), tuple(derivation.equations),
                 tuple(section.kind for section in derivation.sections))
        if which not in tables:
            tables[which] = self._tables(derivation)
        (self._keys, self._strict, self._loose, self._vectors, self._partials, self._kinds, self._transposed,
         self._counterparts, self.read) = tables[which]

    @staticmethod
    def _tables(derivation) -> tuple:
        network = derivation.network
        spellings: dict[str, set[str]] = defaultdict(set)
        partials: dict[tuple[str, str], set[str]] = defaultdict(set)

        strict: dict[str, set[str]] = defaultdict(set)

        def spell(key: str, *texts: str) -> None:
            for text in (key, *texts):
                spellings[canonical(text)].add(key)
                if "^" in text:  # a layer's mark: z^2_1 is not z_{21}, b^2 not b2
                    for form in _strict_forms(text):
                        strict[form].add(key)

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

        vectors = Names._notation_spellings(derivation, spell, spellings)

        # A spelling that could mean two quantities names neither, unless it is one's key (b2, not Nielsen's b^2).
        keys_by_text = {}
        for text, keys in spellings.items():
            own = [key for key in keys if canonical(key) == text]
            if len(keys) == 1 or len(own) == 1:
                keys_by_text[text] = own[0] if own else next(iter(keys))
        strict_keys = {text: keys.pop() for text, keys in strict.items() if len(keys) == 1}
        # Without the layer's mark (Bishop's z_j of a hidden neuron, whose outputs are y_k): when only one neuron has it.
        loose: dict[str, set[str]] = defaultdict(set)
        naming = network.naming
        for layer in network.layers[1:] if not naming.by_name else ():
            for neuron in layer:
                out = naming.n.prediction if layer is network.outputs else naming.n.out
                for letter, key in ((naming.n.net, neuron.net_key), (out, neuron.out_key),
                                    (naming.n.signal, f"dE_total/d{neuron.net_key}")):
                    text = canonical(naming.numbered(letter, neuron))
                    if text not in spellings and text not in keys_by_text:
                        loose[text].add(key)
        loose_keys = {text: keys.pop() for text, keys in loose.items() if len(keys) == 1}
        vector_keys = {text: ways.pop() for text, ways in vectors.items() if len(ways) == 1}
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
        return (keys_by_text, strict_keys, loose_keys, vector_keys, derivatives, _kinds(network), transposed,
                counterparts, {})

    @staticmethod
    def _notation_spellings(derivation, spell, spellings) -> dict[str, set]:
        """Spell the names the derivation's notation prints and reads (``z^2_1``, ``\\delta^2_1``,
        ``dW^{[2]}_{12}``) and return its vectors and matrices by spelling: each the keys of its entries, row by row.

        All of them come from the notation's own naming (``Naming``) and the
        derivation's own formulas, the ones the documents print.
        """
        network = derivation.network
        naming = network.naming
        for layer in network.layers[1:]:
            for neuron in layer:
                spell(f"dE_total/d{neuron.net_key}", neuron.signal_tex)
        for output in network.outputs:
            spell(f"target_{output.name}", naming.target(output))
            spell(f"E_{output.name}", naming.error(output))
        spell("E_total", naming.total, naming.batch_total)
        for bias in network.biases:
            # A shared bias is every neuron's: b^2_1 is b^2.
            for neuron in bias.neurons if len(bias.neurons) > 1 else ():
                spell(bias.key, naming.bias(bias.layer, neuron.index))
        for key, equation in derivation.equations.items():
            head = equation.forms[0]
            if isinstance(head, Sym) and head.key == key and head.tex and canonical(head.tex) not in spellings:
                spell(key, head.tex)  # a name no neuron or parameter spells already (m_{w_5,1}, E_{reg})
            for node in _partials(equation.forms):
                short = naming.shorthand(node.wrt.tex) if canonical(node.of.tex) in _TOTALS else None
                if short:
                    spell(node.key, short)
        vectors: dict[str, set] = defaultdict(set)

        # One sample's vectors are its batch's matrices too (Ng's Z^{[1]}); with several, the batch has its own.
        one_sample = len(derivation.spec.samples) == 1

        # The batch's matrices first: where the worked sample's vector has the same name (∂E/∂W^{(1)}), the batch's it is.
        sections = sorted((s for s in derivation.sections if s.kind in ("matrix", "matrix_batch")),
                          key=lambda s: s.kind != "matrix_batch")
        batch_names: set[str] = set()

        def vector(tex: str, keys: tuple, batch: bool) -> None:
            for name in {tex, naming.batch(tex)} if one_sample else {tex}:
                if not batch and canonical(name) in batch_names:
                    continue
                if batch:
                    batch_names.add(canonical(name))
                vectors[canonical(name)].add(keys)
                for r, row in enumerate(keys):
                    for c, key in enumerate(row):
                        entry = naming.entry(name, r, None if len(row) == 1 else c)
                        if entry is not None:
                            spell(key, entry)

        for section in sections:
            batch = section.kind == "matrix_batch"
            for step in section.steps:
                for equation in step.eq.values():
                    forms = equation.forms
                    for name in forms[:-1]:
                        for tex, keys in _named_matrices(name, forms[-1]):
                            vector(tex, keys, batch)
                    for symbolic, substituted in zip(forms[1:-1], forms[2:]):
                        for tex, keys in _named_matrices(symbolic, substituted):
                            vector(tex, keys, batch)
                    # ∂E/∂W^(1) as a fraction, and Ng's dW^{[1]}: by the pair of names.
                    head, last = forms[0], forms[-1]
                    if isinstance(head, Partial) and _keys_of(last):
                        pair = canonical(f"d{head.of.tex}/d{head.wrt.tex}")
                        if batch or pair not in batch_names:
                            batch_names.update([pair] if batch else [])
                            vectors[pair].add(_keys_of(last))
                        short = naming.shorthand(head.wrt.tex)
                        if short:
                            vector(short, _keys_of(last), batch)
        return vectors

    def vector(self, text: str) -> tuple[tuple[str, ...], ...] | None:
        """The keys of the entries of the vector or matrix ``text`` names (``\\delta^{(2)}``, ``W^{[2]}``), row by row, or None."""
        keys = self._vectors.get(canonical(text))
        if keys is None or not all(self.exists(key) for row in keys for key in row):
            return None
        return keys

    def vector_partial(self, of: str, wrt: str) -> tuple[tuple[str, ...], ...] | None:
        """The keys of ∂of/∂wrt of a matrix (``E_{total}``, ``W^{(1)}``), row by row, or None."""
        of = canonical(of)
        for numerator in (of, *(["Etotal"] if of in _TOTAL_ERROR else [])):
            keys = self.vector(f"d{numerator}/d{canonical(wrt)}")
            if keys is not None:
                return keys
        return None

    def key(self, text: str) -> str | None:
        """The key ``text`` names (``out_{h1}`` → ``out_h1``), or None."""
        quotient = _QUOTIENT.fullmatch(text)
        if quotient and "^" in quotient[2]:  # dC/dw^3_{11}: the derivative of the names the notation prints
            key = self.partial(quotient[1], quotient[2])
            if key is not None:
                return key
        if "^" in text:
            key = self._strict.get(_strict(text))
            if key is not None and self.exists(key):
                return key
        spelling = canonical(text)
        for candidate in (spelling, *_aliases(spelling)):
            key = self._keys.get(candidate)
            if key is None and "^" not in text:
                key = self._loose.get(candidate)
            if key is None and candidate.startswith("out"):
                key = self._keys.get(candidate[3:])  # out_{i1}: the input itself
            if key is not None and self.exists(key):
                return key
        return None

    def partial(self, of: str, wrt: str) -> str | None:
        """The key of ∂of/∂wrt (``E_{total}``, ``w_5`` → ``dE_total/dw5``), or None."""
        written = (of, wrt)
        of, wrt = canonical(of), canonical(wrt)
        for numerator in (of, *(["Etotal"] if of in _TOTAL_ERROR else [])):
            key = self._partials.get((numerator, wrt))
            if key is None:
                key = self.key(f"d{numerator}/d{wrt}")
            if key in self.values:
                return key
        # Each name read on its own, as the notation writes it: ∂C/∂z^3_1 is dE_total/dnet_o1.
        top = "E_total" if of in _TOTALS else self.key(written[0])
        bottom = self.key(written[1])
        if top is not None and bottom is not None and f"d{top}/d{bottom}" in self.values:
            return f"d{top}/d{bottom}"
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
# The total error as the notations print it (E_{total}, C, \\mathcal{L}, J), canonical.
_TOTALS = ("Etotal", *_TOTAL_ERROR, "mathcalL")


def _keys_of(node) -> tuple[tuple[str, ...], ...] | None:
    """The keys of a matrix of keyed names, row by row, or None."""
    if not isinstance(node, Matrix):
        return None
    if not all(isinstance(x, (Sym, Partial)) and x.key for row in node.rows for x in row):
        return None
    return tuple(tuple(x.key for x in row) for row in node.rows)


def _named_matrices(symbolic, substituted):
    """``(tex, keys)`` of each name in ``symbolic`` that stands where ``substituted`` has a matrix of keyed names:
    ``W^{(1)}`` in ``W^{(1)} x + b^{(1)}`` beside the matrix of its weights."""
    stack = [(symbolic, substituted)]
    while stack:
        s, v = stack.pop()
        keys = _keys_of(v)
        if isinstance(s, (Sym, Partial)) and keys is not None:
            yield latex(s), keys
        elif type(s) is type(v) and dataclasses.is_dataclass(s) and not isinstance(s, (Sym, Matrix)):
            for field in dataclasses.fields(s):
                a, b = getattr(s, field.name), getattr(v, field.name)
                if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
                    stack.extend(zip(a, b))
                elif not isinstance(a, tuple):
                    stack.append((a, b))


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
