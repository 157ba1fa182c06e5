"""What each field of a spec means, for the spec reference of the docs site.

The fields themselves are the reader's own list (``reading.spec_fields``);
this module only describes them, and the defaults and choices it names are
the reader's constants, so the reference cannot drift from the code: a field
without a description here fails the docs build and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import limits
from .notation import FORMS, PRESET_NAMES, SETTINGS, SYMBOLS
from .reading import (ACTIVATIONS, DEFAULT_ITERATIONS, DEFAULT_LEARNING_RATE, DEFAULT_SLOPE, DEFAULT_TITLE, LOSSES,
                      MAX_ITERATIONS, MODES, OPTIMIZER_DEFAULTS, OPTIMIZERS, REDUCTIONS, UPDATES, spec_fields)
from .vocabulary import COLUMNS, PAPERS


@dataclass(frozen=True)
class Field:
    """One field: its dotted path, what it holds, its default ("" when it must be given), what it means."""

    path: str
    holds: str
    default: str
    meaning: str


def _choices(names) -> str:
    return ", ".join(f"`{name}`" for name in names)


_REQUIRED = ""
_DESCRIPTIONS: dict[str, tuple[str, str, str]] = {
    "title": ("one line of text", f"`{DEFAULT_TITLE}`", "the document's title"),
    "author": ("one line of text", "none", "printed under the title"),
    "course": ("one line of text", "none", "printed above the title"),
    "date": ("one line of text, or a TOML date (`2025-03-12`)", "none", "printed under the title"),
    "network": ("a table", _REQUIRED, "the network's shape, functions and parameters"),
    "network.layers": (f"a list of 2 to {limits.MAX_LAYERS} widths, each 1 to {limits.MAX_WIDTH}", _REQUIRED,
                       "the number of neurons of each layer: inputs, hidden layer(s), outputs"),
    "network.activation": (f"a name ({_choices(ACTIVATIONS)}), a table, or a list of them, one per non-input layer",
                           f"`{ACTIVATIONS[0]}`", "the activation of every non-input layer, or of each one; "
                                                  "`softmax` only on the output layer"),
    "network.activation.name": ("an activation's name", _REQUIRED, "the activation, in the table form"),
    "network.activation.slope": ("a number between 0 and 1 (exclusive)", f"`{DEFAULT_SLOPE}`",
                                 "`leaky_relu`'s slope for a negative net input"),
    "network.loss": (_choices(LOSSES), f"`{LOSSES[0]}`", "the error E_total of one sample"),
    "network.weights": ("one matrix per pair of adjacent layers; `weights[l][j][i]` a number", _REQUIRED,
                        "the weight from neuron i of layer l to neuron j of layer l + 1"),
    "network.biases": ("one entry per non-input layer: a number, or a list of one per neuron", _REQUIRED,
                       "a bias shared by the layer's neurons (as in the source), or one of each neuron's own"),
    "data": ("a table, or a list of tables (`[[data]]`), one per sample", _REQUIRED, "the training samples"),
    "data.inputs": ("a list of one number per input neuron, or a list of such rows", _REQUIRED,
                    "the inputs of the sample, or one row per sample"),
    "data.targets": ("a list of one number per output neuron, or a list of such rows", _REQUIRED,
                     "the wanted outputs, row by row with the inputs"),
    "training": ("a table", "every field's default", "how the network is trained"),
    "training.learning_rate": ("a number > 0", f"`{DEFAULT_LEARNING_RATE}`", "η, the step of gradient descent"),
    "training.update": (_choices(UPDATES), f"`{UPDATES[0]}`",
                        "all weights updated together from the old ones, or each layer's error signal computed "
                        "with the already-updated weights above it"),
    "training.train_biases": ("`true` or `false`", "`false`", "whether the biases get gradients and updates too"),
    "training.iterations": (f"an integer from 0 to {MAX_ITERATIONS:,}", f"`{DEFAULT_ITERATIONS}`",
                            "the rounds of training after the first, for the loss curve and the final result"),
    "training.mode": (_choices(MODES), f"`{MODES[0]}`",
                      "one step per round on the error of all samples, one step per sample in turn, or one per "
                      "mini-batch of `batch_size` samples"),
    "training.reduction": (_choices(REDUCTIONS), f"`{REDUCTIONS[0]}`", "how E_total combines the samples' errors"),
    "training.batch_size": ("an integer from 1 to the number of samples", "every sample (`mode = \"batch\"`), "
                            "1 with `mode = \"stochastic\"`",
                            "the samples of each step: each round cuts them into batches of this size, the last "
                            "one smaller (as a PyTorch DataLoader with `drop_last=False`); between 1 and all of "
                            "them it sets `mode = \"minibatch\"`"),
    "training.shuffle_seed": ("an integer ≥ 0", "none: the samples in the spec's order every round",
                              "a new order of the samples every round, drawn by a Fisher–Yates shuffle from "
                              "`random.Random(shuffle_seed)` (see the spec page); needs a batch_size below the "
                              "number of samples"),
    "training.optimizer": (_choices(OPTIMIZERS), f"`{OPTIMIZERS[0]}`",
                           "the optimizer of each step, with its hyper-parameters under torch.optim's names"),
    "training.momentum": ("a number from 0 to 1 (exclusive)", f"`{OPTIMIZER_DEFAULTS['momentum']}`",
                          "μ of `momentum` and `nesterov`: how much of the last step each step keeps"),
    "training.dampening": ("a number from 0 to 1 (exclusive)", "`0`",
                           "τ of `momentum`: the share of the gradient left out of the velocity (`nesterov` needs 0)"),
    "training.nesterov": ("`true` or `false`", "`false`", "`momentum` with Nesterov's look-ahead (as `nesterov`)"),
    "training.alpha": ("a number from 0 to 1 (exclusive)", "`0.99`",
                       "`rmsprop`: how much of the mean of squared gradients each step keeps"),
    "training.betas": ("two numbers from 0 to 1 (exclusive)", "`[0.9, 0.999]`",
                       "`adam`, `adamw`: the decay rates of the first and second moments"),
    "training.eps": ("a number > 0", "`1e-8`", "`rmsprop`, `adam`, `adamw`: ε, added to the divisor"),
    "training.weight_decay": ("a number ≥ 0", f"`0` (`adamw`: `{OPTIMIZER_DEFAULTS['weight_decay']['adamw']}`)",
                              "λ: L2 regularisation (E_reg = E_total + λ/2 Σ w²), or AdamW's decoupled decay"),
    "notation": (f"a preset's name ({_choices(PRESET_NAMES)}), or a table with `preset`, `form` "
                 f"({_choices(FORMS)}), symbol overrides ({_choices(SYMBOLS)}) and settings "
                 f"({_choices(SETTINGS)})", f"`{PRESET_NAMES[0]}`",
                 "how the document writes the quantities and the words for them, and the form of the backward pass"),
    "handout": ("a table", "every field's default", "the LaTeX and PDF layout (Markdown has no pages)"),
    "handout.paper": (_choices(PAPERS), f"`{PAPERS[0]}`", "the paper size"),
    "handout.equation_numbers": ("`true` or `false`", "`false`", "number every displayed equation"),
    "handout.columns": (" or ".join(f"`{c}`" for c in COLUMNS), f"`{COLUMNS[0]}`",
                        "`2` is the compact two-column layout"),
}


def described_fields() -> tuple[Field, ...]:
    """Every field of a spec, in the reader's order, with its description;
    ``KeyError`` names a field the reader knows and this module does not describe."""
    missing = [path for path in spec_fields() if path not in _DESCRIPTIONS]
    if missing:
        raise KeyError(f"spec fields without a description in explainer/spec/fields.py: {', '.join(missing)}")
    return tuple(Field(path, *_DESCRIPTIONS[path]) for path in spec_fields())


def undescribed_leftovers() -> tuple[str, ...]:
    """Descriptions of fields the reader no longer knows."""
    known = set(spec_fields())
    return tuple(path for path in _DESCRIPTIONS if path not in known)
