"""Reading a spec: the network, its training samples, the training settings,
and the document's title block (author, course, date) and handout layout.

A spec comes from a TOML or JSON file, a Python mapping, or the built-in
example (the network of the reference document).  Every problem a user can
make becomes one ``SpecError`` that names the field by its dotted path
(``network.weights[1][0]``), what was expected and what was found.  Fields are
checked in the order the format lists them, so the first problem is reported.

Numbers keep the text the user wrote: they are read as ``Decimal``, so that
``0.40`` is printed back as ``0.40``.  Only the standard library is used here,
because the command line imports this module before anything else.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from .documents import DocumentError, load_json, load_toml
from .errors import QUOTED_LENGTH, SpecError, quoted
from .notation import Notation, NotationError, notation as _make_notation, notation_table
from .examples import example_names, example_spec_path, names_hint
from .vocabulary import COLUMNS, PAPERS

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "softmax")
LOSSES = ("half_squared_error", "squared_error", "mean_squared_error", "binary_cross_entropy", "cross_entropy")
UPDATES = ("simultaneous", "sequential")
MODES = ("batch", "stochastic", "minibatch")
REDUCTIONS = ("mean", "sum")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
# Activations whose outputs lie between 0 and 1, as binary cross-entropy needs.
UNIT_INTERVAL_ACTIVATIONS = ("sigmoid", "softmax")
DEFAULT_SLOPE = Decimal("0.01")
BUILTIN_NAME = "backpropagation-example"
BUILTIN_SOURCE = "<built-in example>"
DICT_SOURCE = "<dict>"
DICT_NAME = "network"

DEFAULT_TITLE = "A Step by Step Backpropagation Example"
DEFAULT_LEARNING_RATE = Decimal("0.5")
DEFAULT_ITERATIONS = 10_000
MAX_ITERATIONS = 10_000_000

_FORMATS = {".toml": "toml", ".json": "json"}
_KEYS = {
    "": ("title", "author", "course", "date", "network", "data", "training", "handout", "notation"),
    "network": ("layers", "activation", "loss", "weights", "biases"),
    "network.activation": ("name", "slope"),
    "data": ("inputs", "targets"),
    "training": ("learning_rate", "update", "train_biases", "iterations", "mode", "reduction",
                 "batch_size", "shuffle_seed", "optimizer", "momentum", "dampening", "nesterov", "alpha", "betas", "eps", "weight_decay"),
    "handout": ("paper", "equation_numbers", "columns"),
}
_PLURALS = {"matrix": "matrices", "entry": "entries"}


def spec_fields() -> tuple[str, ...]:
    """Every field a spec may have, by its dotted path, in the order the format lists them
    (a table's own fields follow it): the list the reader checks keys against."""
    fields: list[str] = []

    def add(table: str) -> None:
        for key in _KEYS[table]:
            path = f"{table}.{key}" if table else key
            fields.append(path)
            if path in _KEYS:
                add(path)

    add("")
    return tuple(fields)

Vector = tuple[Decimal, ...]
Matrix = tuple[Vector, ...]


@dataclass(frozen=True)
class Handout:
    """How the LaTeX (and PDF) document is laid out; the Markdown has no pages."""

    paper: str = PAPERS[0]
    equation_numbers: bool = False
    columns: int = 1  # 2: the compact two-column layout


@dataclass(frozen=True)
class Optimizer:
    """The optimizer and its hyper-parameters, under the names ``torch.optim`` gives them.

    ``weight_decay`` is L2 regularisation (the gradient of λ/2·‖w‖² added to
    each gradient) for every optimizer but AdamW, whose decay is decoupled
    (the weight shrunk by η·λ·w beside the Adam step).
    """

    name: str = "sgd"
    momentum: Decimal = Decimal(0)
    dampening: Decimal = Decimal(0)
    nesterov: bool = False
    alpha: Decimal = Decimal("0.99")
    betas: tuple[Decimal, Decimal] = (Decimal("0.9"), Decimal("0.999"))
    eps: Decimal = Decimal("1e-8")
    weight_decay: Decimal = Decimal(0)

    @property
    def plain(self) -> bool:
        """Plain gradient descent, the source's ``w+ = w - η ∂E/∂w``."""
        return self.name == "sgd" and not self.weight_decay


# The fields each optimizer reads; giving another is a mistake.
OPTIMIZER_FIELDS = {
    "sgd": ("weight_decay",),
    "momentum": ("momentum", "dampening", "nesterov", "weight_decay"),
    "nesterov": ("momentum", "nesterov", "weight_decay"),
    "rmsprop": ("alpha", "eps", "weight_decay"),
    "adam": ("betas", "eps", "weight_decay"),
    "adamw": ("betas", "eps", "weight_decay"),
}
# torch.optim's defaults, except momentum, whose default of 0 would make it plain SGD.
OPTIMIZER_DEFAULTS = {"momentum": Decimal("0.9"), "weight_decay": {"adamw": Decimal("0.01")}}


@dataclass(frozen=True)
class Sample:
    """One training sample: a value per input neuron and the wanted value per output neuron."""

    inputs: Vector
    targets: Vector


@dataclass(frozen=True)
class Spec:
    """A validated spec; ``weights[l][j][i]`` joins neuron i of layer l to neuron j of layer l+1."""

    name: str
    source: str
    title: str
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    slopes: tuple[Decimal | None, ...]  # leaky_relu's slope for net < 0, per non-input layer
    loss: str
    weights: tuple[Matrix, ...]
    biases: tuple[Vector, ...]  # (value,) for a bias shared by the layer
    shared_biases: tuple[bool, ...]
    samples: tuple[Sample, ...]
    learning_rate: Decimal
    update: str
    train_biases: bool
    iterations: int
    mode: str  # "batch", "stochastic" or "minibatch"
    reduction: str  # how E_total combines the samples: "mean" or "sum"
    # Samples per step: every sample in batch mode, 1 in stochastic mode, between in minibatch mode.
    batch_size: int = 1
    # None: the samples in the order given every round; else the seed of each round's shuffle (maths.batches).
    shuffle_seed: int | None = None

    # Who wrote the document, for which course, when: free one-line text, printed with the title.
    author: str = ""
    course: str = ""
    date: str = ""
    handout: Handout = Handout()
    # How the document writes the quantities (symbols, words) and the backwards pass (form).
    notation: Notation = Notation()
    optimizer: Optimizer = Optimizer()

    @property
    def inputs(self) -> Vector:
        """The inputs of the first sample (the only one, in most specs)."""
        return self.samples[0].inputs

    @property
    def targets(self) -> Vector:
        """The targets of the first sample (the only one, in most specs)."""
        return self.samples[0].targets


class _Invalid(Exception):
    """A problem found by a check; ``spec_from_mapping`` adds the source."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message


# --- Sources ---------------------------------------------------------------


def load_spec(source: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Spec:
    """The spec at ``source``: None for the built-in example, a .toml/.json path,
    the name of a shipped example (``"xor"``; a file of that name wins), or a mapping."""
    if source is None:
        return _builtin_spec()
    if isinstance(source, Mapping):
        return spec_from_mapping(source, DICT_SOURCE, DICT_NAME)
    if isinstance(source, (str, os.PathLike)):
        return _file_spec(os.fspath(source))
    raise TypeError(f"load_spec expects None, a path or a mapping, not {type(source).__name__}")


def parse_spec_text(text: str, source: str, fmt: str) -> Spec:
    """The spec written in ``text`` (``fmt`` is "toml" or "json"); ``source`` names it in errors."""
    # Editors on Windows may save a byte-order mark, which neither parser accepts.
    document = _parsed_document(text.removeprefix("\ufeff"), source, fmt)
    return spec_from_mapping(document, source, _name_for(source))


def spec_from_mapping(data: Mapping[str, Any], source: str, name: str) -> Spec:
    """The spec described by ``data``, or a ``SpecError`` naming its first problem."""
    try:
        fields = _validated_fields(data)
    except _Invalid as problem:
        raise SpecError(source, problem.field, problem.message) from None
    return Spec(name=name, source=source, **fields)


def with_overrides(spec: Spec, overrides: Mapping[str, Any], source: str = "the command line") -> Spec:
    """``spec`` with some document fields replaced, checked as the spec's own are.

    ``overrides`` maps a field (``title``, ``author``, ``course``, ``date``,
    ``handout.paper``, ``handout.equation_numbers``, ``handout.columns``) to its
    new value; a bad value is a ``SpecError`` from ``source``.
    """
    document, handout = {}, {}
    try:
        for field, value in overrides.items():
            table, _, key = field.rpartition(".")
            readers = _HANDOUT_READERS if table == "handout" else _DOCUMENT_READERS if not table else {}
            if key not in readers:
                raise ValueError(f"{field!r} is not a document field; expected one of {_OVERRIDABLE}")
            (handout if table else document)[key] = readers[key](value, field)
    except _Invalid as problem:
        raise SpecError(source, problem.field, problem.message) from None
    return dataclasses.replace(spec, **document, handout=dataclasses.replace(spec.handout, **handout))


def with_notation(spec: Spec, preset: str | None = None, form: str | None = None,
                  source: str = "the command line") -> Spec:
    """``spec`` in another notation preset (the spec's own overrides kept) or form."""
    table = notation_table(spec.notation)
    if preset is not None:
        table["preset"] = preset
    if form is not None:
        table["form"] = form
    field = "--notation" if preset is not None else "--form"
    try:
        return dataclasses.replace(spec, notation=read_notation(table, "notation"))
    except _Invalid as problem:
        raise SpecError(source, field if problem.field in ("notation.preset", "notation.form") else problem.field,
                        problem.message) from None


# The fields of a Spec that spec_mapping writes into the network, data and training
# tables, or leaves out (name and source say where a spec came from, not what it is).
_TABLED_FIELDS = frozenset({
    "name", "source", "title", "layers", "activations", "slopes", "loss", "weights", "biases", "shared_biases",
    "samples", "learning_rate", "update", "train_biases", "iterations", "mode", "reduction", "optimizer",
    "batch_size", "shuffle_seed",
})


def spec_mapping(spec: Spec) -> dict[str, Any]:
    """The mapping ``spec_from_mapping`` reads back as ``spec``; numbers stay ``Decimal``, as written.

    Any other field of the spec is a top-level key of its own name, a table
    when it is a dataclass, as the spec's document settings are written.
    """
    named = [name if slope is None else {"name": name, "slope": slope}
             for name, slope in zip(spec.activations, spec.slopes)]
    activations = named[0] if all(a == named[0] for a in named) else named
    biases = [layer[0] if shared else list(layer) for layer, shared in zip(spec.biases, spec.shared_biases)]
    samples = [{"inputs": list(s.inputs), "targets": list(s.targets)} for s in spec.samples]
    settings = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)
                if field.name not in _TABLED_FIELDS}
    # The notation is written only when it is not the source's, so that older keys read the same.
    if spec.notation == Notation():
        settings.pop("notation")
    else:
        settings["notation"] = notation_table(spec.notation)
    return {
        "title": spec.title,
        **{name: dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
           for name, value in settings.items()},
        "network": {
            "layers": list(spec.layers), "activation": activations, "loss": spec.loss,
            "weights": [[list(row) for row in matrix] for matrix in spec.weights], "biases": biases,
        },
        "data": samples[0] if len(samples) == 1 else samples,
        "training": {
            "learning_rate": spec.learning_rate, "update": spec.update,
            "train_biases": spec.train_biases, "iterations": spec.iterations,
            "mode": spec.mode, "reduction": spec.reduction, **_batch_mapping(spec),
            **_optimizer_mapping(spec.optimizer),
        },
    }


def _batch_mapping(spec: Spec) -> dict[str, Any]:
    """``batch_size`` where the mode does not say it, and ``shuffle_seed`` where it is set."""
    fields: dict[str, Any] = {}
    if spec.mode == "minibatch":
        fields["batch_size"] = spec.batch_size
    if spec.shuffle_seed is not None:
        fields["shuffle_seed"] = spec.shuffle_seed
    return fields


def _optimizer_mapping(optimizer: Optimizer) -> dict[str, Any]:
    """The ``[training]`` keys of ``optimizer``: none for plain SGD, so that its specs read as before."""
    if optimizer == Optimizer():
        return {}
    fields = {"optimizer": optimizer.name}
    for key in OPTIMIZER_FIELDS[optimizer.name]:
        value = getattr(optimizer, key)
        if key == "nesterov":
            continue  # the optimizer's name says it
        fields[key] = list(value) if key == "betas" else value
    return fields


def _builtin_spec() -> Spec:
    resource = resources.files(__package__) / "backpropagation-example.toml"
    return parse_spec_text(resource.read_text(encoding="utf-8"), BUILTIN_SOURCE, "toml")


def _file_spec(path: str) -> Spec:
    # A file always wins over a shipped example's name, so no example can hide a user's file.
    exists = os.path.exists(path)
    if not exists:
        shipped = example_spec_path(path)
        if shipped is not None:
            return spec_from_mapping(_parsed_document(shipped.read_text(encoding="utf-8"), path, "toml"), path, path)
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None and not exists and not Path(path).suffix:
        raise SpecError(path, "", f"expected a .toml or .json file or the name of a shipped example, "
                                  f"got {Path(path).name!r}{names_hint(path, example_names())}")
    if fmt is None:
        raise SpecError(path, "", f"expected a .toml or .json file, got {quoted(Path(path).name)}")
    return parse_spec_text(_file_text(path), path, fmt)


def _file_text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise SpecError(path, "", f"cannot read: {err.strerror or err}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(path, "", "cannot read: not UTF-8 text") from None


def _parsed_document(text: str, source: str, fmt: str) -> Any:
    # parse_float=Decimal keeps the digits as written: 0.40 stays 0.40, 0.1 is not 0.1000000000000000055.
    try:
        if fmt == "toml":
            return load_toml(text, parse_float=Decimal)
        if fmt == "json":
            return load_json(text, parse_float=Decimal, object_pairs_hook=_object_without_repeats)
    except DocumentError as err:
        raise SpecError(source, "", str(err)) from None
    except _RepeatedKey as err:
        # JSON itself takes the last of two equal keys; a spec that says a thing twice is a mistake.
        raise SpecError(source, "", f"invalid JSON: the key {quoted(err.args[0])} appears twice in one object") from None
    raise ValueError(f"unknown spec format {fmt!r}; expected 'toml' or 'json'")


class _RepeatedKey(Exception):
    pass


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen.add(key)
    return dict(pairs)


def _name_for(source: str) -> str:
    return BUILTIN_NAME if source == BUILTIN_SOURCE else Path(source).stem


# --- The checks, in the order the format lists the fields -------------------


def _validated_fields(document: Any) -> dict[str, Any]:
    top = _table(document, "")
    title = _one_line(top.get("title", DEFAULT_TITLE), "title")
    about = {key: read(top[key], key) for key, read in _DOCUMENT_READERS.items() if key in top and key != "title"}
    network = _required(top, "", "network", "a table with layers, weights and biases")
    network = _network_fields(_table(network, "network"))
    data = _required(top, "", "data", "a table with inputs and targets, or a list of such tables")
    samples = _samples(data, network["layers"])
    _check_pairing(network, samples, data)
    training = _training_fields(_table(top.get("training", {}), "training"), len(samples))
    handout = _handout(_table(top.get("handout", {}), "handout"))
    fields = {"title": title, **network, "samples": samples, **training, **about, "handout": handout}
    if "notation" in top:
        fields["notation"] = read_notation(top["notation"], "notation")
    return fields


def read_notation(value: Any, field: str = "notation") -> Notation:
    """``notation = "nielsen"``, or a table with ``preset`` and per-symbol overrides (and ``form``)."""
    table = {"preset": value} if isinstance(value, str) else value
    if not isinstance(table, Mapping):
        raise _Invalid(field, f"expected a preset name or a table, got {_found(value)}")
    table = dict(table)
    preset = table.pop("preset", "source")
    try:
        return _make_notation(preset, **{str(k): v for k, v in table.items()})
    except NotationError as problem:
        where = field if problem.field == "preset" and isinstance(value, str) else _joined(field, problem.field)
        raise _Invalid(where, problem.message) from None


def _network_fields(network: Mapping[str, Any]) -> dict[str, Any]:
    layers = _layers(_required(network, "network", "layers", "a list of layer widths such as [2, 2, 2]"))
    activations, slopes = _activations(network.get("activation", ACTIVATIONS[0]), len(layers) - 1)
    loss = _choice(network.get("loss", LOSSES[0]), "network.loss", LOSSES, "loss")
    weights = _required(network, "network", "weights", "one weight matrix per pair of adjacent layers")
    weights = _weights(weights, layers)
    biases = _required(network, "network", "biases", "one bias per non-input layer")
    biases, shared = _biases(biases, layers)
    return {"layers": layers, "activations": activations, "slopes": slopes, "loss": loss,
            "weights": weights, "biases": biases, "shared_biases": shared}


def _samples(data: Any, layers: tuple[int, ...]) -> tuple[Sample, ...]:
    """``[data]`` with one sample or rows of several, or ``[[data]]``, one table per sample."""
    if _is_list(data):
        if not data:
            raise _Invalid("data", "expected at least one sample, got an empty list")
        return tuple(_sample(_table(entry, "data", f"data[{index}]"), f"data[{index}]", layers)
                     for index, entry in enumerate(data))
    if not isinstance(data, Mapping):
        raise _Invalid("data", f"expected a table with inputs and targets, or a list of such tables, got {_found(data)}")
    data = _table(data, "data")
    inputs = _required(data, "data", "inputs", _counted(layers[0], "number"))
    targets = _required(data, "data", "targets", _counted(layers[-1], "number"))
    if not (_is_list(inputs) and inputs and all(_is_list(row) for row in inputs)):
        return (_sample(data, "data", layers),)
    if not _is_list(targets) or len(targets) != len(inputs) or not all(_is_list(row) for row in targets):
        rows = _counted(len(inputs), "row")
        raise _Invalid("data.targets", f"expected {rows} of {_counted(layers[-1], 'number')} (one per row of inputs), "
                                       f"got {_found(targets)}")
    return tuple(Sample(_input_row(row, f"data.inputs[{s}]", layers), _target_row(target, f"data.targets[{s}]", layers))
                 for s, (row, target) in enumerate(zip(inputs, targets)))


def _sample(table: Mapping[str, Any], field: str, layers: tuple[int, ...]) -> Sample:
    inputs = _required(table, field, "inputs", _counted(layers[0], "number"))
    targets = _required(table, field, "targets", _counted(layers[-1], "number"))
    return Sample(_input_row(inputs, f"{field}.inputs", layers), _target_row(targets, f"{field}.targets", layers))


def _input_row(value: Any, field: str, layers: tuple[int, ...]) -> Vector:
    return _numbers(value, field, layers[0], "one per input neuron, as layers[0] says")


def _target_row(value: Any, field: str, layers: tuple[int, ...]) -> Vector:
    return _numbers(value, field, layers[-1], "one per output neuron, as layers[-1] says")


def _check_pairing(network: Mapping[str, Any], samples: tuple[Sample, ...], data: Any) -> None:
    """Combinations of activations, loss and targets that make no sense."""
    activations, loss = network["activations"], network["loss"]
    output = activations[-1]
    if "softmax" in activations[:-1]:
        layer = activations.index("softmax")
        field = "network.activation" if len(set(activations)) == 1 else f"network.activation[{layer}]"
        raise _Invalid(field, "softmax is only for the output layer (it turns the outputs into probabilities); "
                              "expected another activation for the hidden layers, such as ['tanh', 'softmax']")
    if output == "softmax" and network["layers"][-1] < 2:
        raise _Invalid("network.activation", "softmax needs at least 2 output neurons (with one, its output is always 1)")
    if loss == "cross_entropy" and output != "softmax":
        raise _Invalid("network.loss", f"cross_entropy needs softmax on the output layer, got {output}; "
                                       "for one sigmoid output per class use binary_cross_entropy")
    if loss == "binary_cross_entropy" and output not in UNIT_INTERVAL_ACTIVATIONS:
        raise _Invalid("network.loss", f"binary_cross_entropy needs outputs between 0 and 1 (sigmoid or softmax "
                                       f"on the output layer), got {output}")
    if loss in ("binary_cross_entropy", "cross_entropy"):
        for s, sample in enumerate(samples):
            for k, target in enumerate(sample.targets):
                if not 0 <= target <= 1:
                    raise _Invalid(f"{_targets_field(data, s)}[{k}]",
                                   f"expected a number from 0 to 1 for {loss}, got {target}")
            if loss == "cross_entropy" and sum(sample.targets) != 1:
                raise _Invalid(_targets_field(data, s), "expected targets that add up to 1 for cross_entropy "
                                                        f"(a probability per class), got a sum of {sum(sample.targets)}")


def _targets_field(data: Any, sample: int) -> str:
    if _is_list(data):
        return f"data[{sample}].targets"
    rows = _is_list(data.get("inputs")) and data["inputs"] and all(_is_list(row) for row in data["inputs"])
    return f"data.targets[{sample}]" if rows else "data.targets"


def _training_fields(training: Mapping[str, Any], samples: int) -> dict[str, Any]:
    fields = {
        "learning_rate": _learning_rate(training.get("learning_rate", DEFAULT_LEARNING_RATE)),
        "update": _choice(training.get("update", UPDATES[0]), "training.update", UPDATES, "update"),
        "train_biases": _train_biases(training.get("train_biases", False)),
        "iterations": _iterations(training.get("iterations", DEFAULT_ITERATIONS)),
        "mode": _choice(training.get("mode", MODES[0]), "training.mode", MODES, "mode"),
        "reduction": _choice(training.get("reduction", REDUCTIONS[0]), "training.reduction", REDUCTIONS, "reduction"),
    }
    fields.update(_batching(training, samples, fields["mode"]))
    if fields["update"] == "sequential" and fields["batch_size"] > 1:
        what = "mini-batches" if fields["mode"] == "minibatch" else "several samples"
        raise _Invalid("training.update", f"sequential updates the layers one sample at a time; with {what} "
                                          "expected mode = 'stochastic' or update = 'simultaneous'")
    if fields["update"] == "sequential" and fields.get("shuffle_seed") is not None:
        raise _Invalid("training.update", "sequential is derived for the samples in the order given; with "
                                          "shuffle_seed expected update = 'simultaneous'")
    fields["optimizer"] = optimizer = _optimizer(training)
    if not optimizer.plain:
        what = f"optimizer {optimizer.name!r}" if optimizer.weight_decay == 0 or optimizer.name != "sgd" else "weight_decay"
        if fields["update"] == "sequential":
            raise _Invalid("training.update", f"sequential is the source's plain gradient descent; with {what} "
                                              "expected update = 'simultaneous'")
    return fields


def _batching(training: Mapping[str, Any], samples: int, mode: str) -> dict[str, Any]:
    """``mode``, ``batch_size`` and ``shuffle_seed``: how many samples each step takes, and in which order.

    ``batch_size`` generalises the mode: every sample is batch mode, 1 is
    stochastic mode, a size between is mini-batch mode (as a PyTorch
    DataLoader with ``drop_last=False``: the last batch of a round may be smaller).
    """
    field = "training.batch_size"
    given = "mode" in training
    if "batch_size" in training:
        size = training["batch_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= samples:
            raise _Invalid(field, f"expected an integer from 1 to {samples} (the number of samples), "
                                  f"got {_found(size)}")
        implied = "batch" if size == samples else "stochastic" if size == 1 else "minibatch"
        if given and mode != implied and samples > 1:
            expected = {"batch": f"batch_size = {samples}, every sample", "stochastic": "batch_size = 1",
                        "minibatch": f"a batch_size from 2 to {samples - 1}"}[mode]
            raise _Invalid(field, f"mode = {mode!r} means {expected}, got {size}; give only batch_size")
        mode = implied
    elif mode == "minibatch":
        raise _Invalid(field, f"missing; mode = 'minibatch' expected a batch_size from 2 to {samples - 1}"
                       if samples > 2 else f"missing; mode = 'minibatch' needs at least 3 samples, got {samples}")
    else:
        size = samples if mode == "batch" else 1
    fields: dict[str, Any] = {"mode": mode, "batch_size": size}
    if "shuffle_seed" in training:
        seed = training["shuffle_seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
            raise _Invalid("training.shuffle_seed", f"expected an integer >= 0 such as 0, got {_found(seed)}")
        if size == samples:
            raise _Invalid("training.shuffle_seed", "one batch of every sample does not depend on their order; "
                                                    "expected a batch_size below the number of samples")
        fields["shuffle_seed"] = seed
    return fields


def _optimizer(training: Mapping[str, Any]) -> Optimizer:
    name = _choice(training.get("optimizer", OPTIMIZERS[0]), "training.optimizer", OPTIMIZERS, "optimizer")
    allowed = OPTIMIZER_FIELDS[name]
    for key in ("momentum", "dampening", "nesterov", "alpha", "betas", "eps"):
        if key in training and key not in allowed:
            users = [o for o, keys in OPTIMIZER_FIELDS.items() if key in keys]
            raise _Invalid(f"training.{key}", f"optimizer {name!r} has no {key}; it belongs to {_alternatives(tuple(users))}")
    fields: dict[str, Any] = {"name": name}
    if name in ("momentum", "nesterov"):
        fields["momentum"] = _fraction(training.get("momentum", OPTIMIZER_DEFAULTS["momentum"]), "training.momentum",
                                       0, "0.9", low_open=True)
        nesterov = training.get("nesterov", name == "nesterov")
        if not isinstance(nesterov, bool):
            raise _Invalid("training.nesterov", f"expected true or false, got {_found(nesterov)}")
        if name == "nesterov" and not nesterov:
            raise _Invalid("training.nesterov", "optimizer 'nesterov' is Nesterov momentum; for plain momentum "
                                                "expected optimizer = 'momentum'")
        fields["name"] = "nesterov" if nesterov else "momentum"
        fields["nesterov"] = nesterov
        if "dampening" in training:
            fields["dampening"] = _fraction(training["dampening"], "training.dampening", 0, "0.1")
            if nesterov and fields["dampening"] != 0:
                raise _Invalid("training.dampening", "Nesterov momentum needs dampening = 0 (as torch.optim.SGD does)")
    if "alpha" in training:
        fields["alpha"] = _fraction(training["alpha"], "training.alpha", 0, "0.99", low_open=True)
    if "betas" in training:
        betas = _items(training["betas"], "training.betas", 2, "number", "beta1 and beta2")
        fields["betas"] = tuple(_fraction(beta, f"training.betas[{i}]", 0, example)
                                for i, (beta, example) in enumerate(zip(betas, ("0.9", "0.999"))))
    if "eps" in training:
        fields["eps"] = _number(training["eps"], "training.eps")
        if fields["eps"] <= 0:
            raise _Invalid("training.eps", f"expected a number > 0 such as 1e-8, got {_found(training['eps'])}")
    decay = training.get("weight_decay", OPTIMIZER_DEFAULTS["weight_decay"].get(name, Decimal(0)))
    fields["weight_decay"] = _number(decay, "training.weight_decay")
    if fields["weight_decay"] < 0:
        raise _Invalid("training.weight_decay", f"expected a number >= 0 such as 0.01, got {_found(decay)}")
    return Optimizer(**fields)


def _fraction(value: Any, field: str, low: int, example: str, low_open: bool = False) -> Decimal:
    """A number from 0 (excluded with ``low_open``) up to 1, excluded: a decay rate."""
    number = _number(value, field)
    if not (low < number < 1 if low_open else low <= number < 1):
        bound = "between 0 and 1 (exclusive)" if low_open else "from 0 up to 1 (exclusive)"
        raise _Invalid(field, f"expected a number {bound} such as {example}, got {_found(value)}")
    return number


def _table(value: Any, kind: str, field: str | None = None) -> Mapping[str, Any]:
    """``value`` if it is a table whose keys are those of ``kind`` (``field`` names it in errors)."""
    field = kind if field is None else field
    if not isinstance(value, Mapping):
        expected = "a table" if field else "a table at the top level"
        raise _Invalid(field, f"expected {expected}, got {_found(value)}")
    known = _KEYS[kind]
    for key in value:
        if key not in known:
            raise _Invalid(_joined(field, str(key)), _unknown_key_message(str(key), known))
    return value


def _required(table: Mapping[str, Any], field: str, key: str, expected: str) -> Any:
    if key not in table:
        raise _Invalid(_joined(field, key), f"missing; expected {expected}")
    return table[key]


def _handout(handout: Mapping[str, Any]) -> Handout:
    fields = {key: read(handout[key], f"handout.{key}") for key, read in _HANDOUT_READERS.items() if key in handout}
    return Handout(**fields)


def _one_line(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(field, f"expected a string, got {_found(value)}")
    if not _encodable(value):
        raise _Invalid(field, f"expected text, got {_found(value)}, which holds a lone surrogate (not a character)")
    if "\n" in value or "\r" in value:
        # Each becomes one line of the title block (the title a heading), which a line break would split.
        raise _Invalid(field, "expected a one-line string, got a line break")
    return value


def _encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: JSON's "\\ud800" reads as half of a character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _date(value: Any, field: str) -> str:
    """A date as the user writes it ("Spring 2025"), or a TOML date, printed as 2025-03-12."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (datetime.datetime, datetime.time)):
        raise _Invalid(field, f"expected a date such as 2025-03-12 or a string, got a time ({value.isoformat()})")
    return _one_line(value, field)


def _paper(value: Any, field: str) -> str:
    return _choice(value, field, PAPERS, "paper size")


def _equation_numbers(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(field, f"expected true or false, got {_found(value)}")
    return value


def _columns(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in COLUMNS:
        raise _Invalid(field, f"expected 1 or 2 (the compact two-column layout), got {_found(value)}")
    return int(value)


_DOCUMENT_READERS = {"title": _one_line, "author": _one_line, "course": _one_line, "date": _date}
_HANDOUT_READERS = {"paper": _paper, "equation_numbers": _equation_numbers, "columns": _columns}
_OVERRIDABLE = ", ".join([*_DOCUMENT_READERS, *(f"handout.{key}" for key in _HANDOUT_READERS)])


def _layers(value: Any) -> tuple[int, ...]:
    field = "network.layers"
    if not _is_list(value):
        raise _Invalid(field, f"expected a list of layer widths such as [2, 2, 2], got {_found(value)}")
    if len(value) < 2:
        raise _Invalid(field, f"expected at least two layers (inputs and outputs), got {len(value)}")
    for index, width in enumerate(value):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            message = f"expected a positive integer width, got {_found(width)}"
            raise _Invalid(f"{field}[{index}]", message)
    return tuple(int(width) for width in value)


def _activations(value: Any, count: int) -> tuple[tuple[str, ...], tuple[Decimal | None, ...]]:
    """One activation name per non-input layer, and leaky_relu's slope where it is used."""
    field = "network.activation"
    if isinstance(value, (str, Mapping)):
        return tuple(zip(*[_activation(value, field)] * count))
    if not _is_list(value):
        raise _Invalid(field, f"expected an activation name or a list of names, got {_found(value)}")
    names = _items(value, field, count, "name", "one per non-input layer")
    return tuple(zip(*(_activation(name, f"{field}[{index}]") for index, name in enumerate(names))))


def _activation(value: Any, field: str) -> tuple[str, Decimal | None]:
    """A name, or a table such as ``{ name = "leaky_relu", slope = 0.1 }``."""
    if not isinstance(value, Mapping):
        name = _choice(value, field, ACTIVATIONS, "activation")
        return name, DEFAULT_SLOPE if name == "leaky_relu" else None
    table = _table(value, "network.activation", field)
    name = _choice(_required(table, field, "name", _alternatives(ACTIVATIONS)), f"{field}.name", ACTIVATIONS, "activation")
    if "slope" not in table:
        return name, DEFAULT_SLOPE if name == "leaky_relu" else None
    if name != "leaky_relu":
        raise _Invalid(f"{field}.slope", f"only leaky_relu has a slope, not {name}")
    slope = _number(table["slope"], f"{field}.slope")
    if not 0 < slope < 1:
        raise _Invalid(f"{field}.slope", f"expected a number between 0 and 1 (exclusive) such as 0.01, got {slope}")
    return name, slope


def _weights(value: Any, layers: tuple[int, ...]) -> tuple[Matrix, ...]:
    field = "network.weights"
    matrices = _items(value, field, len(layers) - 1, "matrix", "one per pair of adjacent layers")
    return tuple(_matrix(matrix, f"{field}[{layer}]", layers, layer)
                 for layer, matrix in enumerate(matrices))


def _matrix(value: Any, field: str, layers: tuple[int, ...], layer: int) -> Matrix:
    rows = _items(value, field, layers[layer + 1], "row", f"one per neuron of layer {layer + 1}")
    return tuple(_numbers(row, f"{field}[{j}]", layers[layer], f"one per neuron of layer {layer}")
                 for j, row in enumerate(rows))


def _biases(value: Any, layers: tuple[int, ...]) -> tuple[tuple[Vector, ...], tuple[bool, ...]]:
    field = "network.biases"
    entries = _items(value, field, len(layers) - 1, "entry", "one per non-input layer")
    per_layer = [_layer_biases(entry, f"{field}[{layer}]", layers[layer + 1], layer + 1)
                 for layer, entry in enumerate(entries)]
    return tuple(biases for biases, _ in per_layer), tuple(shared for _, shared in per_layer)


def _layer_biases(value: Any, field: str, width: int, layer: int) -> tuple[Vector, bool]:
    """The biases of one layer and whether they are one number shared by all its neurons."""
    if _is_list(value):
        return _numbers(value, field, width, f"one per neuron of layer {layer}"), False
    expected = f"a number (shared by layer {layer}) or a list of {_counted(width, 'number')}"
    return (_number(value, field, expected),), True


def _learning_rate(value: Any) -> Decimal:
    rate = _number(value, "training.learning_rate")
    if rate <= 0:
        raise _Invalid("training.learning_rate", f"expected a number > 0, got {_found(value)}")
    return rate


def _train_biases(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("training.train_biases", f"expected true or false, got {_found(value)}")
    return value


def _iterations(value: Any) -> int:
    field = "training.iterations"
    # Only an integer literal: accepting 1e4 or 10.5 would mean guessing what was meant.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(field, f"expected an integer >= 0 such as 10000, got {_found(value)}")
    if value < 0:
        raise _Invalid(field, f"expected an integer >= 0, got {value}")
    if value > MAX_ITERATIONS:
        raise _Invalid(field, f"expected at most {MAX_ITERATIONS} iterations, got {value}")
    return value


def _choice(value: Any, field: str, allowed: tuple[str, ...], kind: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(field, f"expected {_alternatives(allowed)}, got {_found(value)}")
    if value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"expected {_alternatives(allowed)}"
        raise _Invalid(field, f"unknown {kind} {quoted(value)}; {hint}")
    return value


# --- Small readers and wording -----------------------------------------------


def _items(value: Any, field: str, count: int, noun: str, reason: str) -> Sequence[Any]:
    """``value`` if it is a list of ``count`` items; ``reason`` says why that many."""
    expected = f"{_counted(count, noun)} ({reason})"
    if not _is_list(value):
        raise _Invalid(field, f"expected a list of {expected}, got {_found(value)}")
    if len(value) != count:
        raise _Invalid(field, f"expected {expected}, got {len(value)}")
    return value


def _numbers(value: Any, field: str, count: int, reason: str) -> Vector:
    items = _items(value, field, count, "number", reason)
    return tuple(_number(item, f"{field}[{index}]") for index, item in enumerate(items))


def _number(value: Any, field: str, expected: str = "a number") -> Decimal:
    # bool is an int subclass, but `true` where a weight belongs is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _Invalid(field, f"expected {expected}, got {_found(value)}")
    # repr() of a float is its shortest round-tripping text, the number the user typed.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise _Invalid(field, f"expected a finite number, got {_found(value)}")
    return number


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _found(value: Any) -> str:
    """``value`` described the way the spec file would spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {quoted(value, 40)}"
    if isinstance(value, Mapping):
        return "a table"
    if _is_list(value):
        return f"a list of {_counted(len(value), 'item')}"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return f"a {type(value).__name__}"


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun if count == 1 else _PLURALS.get(noun, noun + 's')}"


def _alternatives(names: tuple[str, ...]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _unknown_key_message(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return f"unknown key; expected one of: {', '.join(known)}"


def _joined(field: str, key: str) -> str:
    # A quoted TOML key may hold a line break; quote it so the message stays on one line.
    # A very long key is cut, so that the message stays a line.
    short = key if len(key) <= QUOTED_LENGTH else key[: QUOTED_LENGTH - 3] + "..."
    shown = short if short.isprintable() and short == key else json.dumps(short)
    return f"{field}.{shown}" if field else shown
