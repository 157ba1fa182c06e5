"""MkDocs hooks: the parts of the docs site that are generated from the code at
build time, so that no copy of them is committed and none can drift.

- ``<!-- generated: spec-fields -->`` in a page becomes the table of every spec
  field, from the reader's own list (``explainer.spec.fields``);
- ``<!-- generated: command-line -->`` becomes the help of every command, from
  the argparse parsers the program itself uses;
- ``<!-- generated: examples -->`` becomes the list of shipped examples;
- every shipped example gets a page, ``examples/NAME.md``, with its spec and its
  derivation rendered live by explainer's Markdown extension, and joins the
  navigation under the examples' overview;
- the built-in example's figures become ``assets/NAME-network.svg`` and
  ``assets/NAME-loss.svg``.
"""

from __future__ import annotations

import os

from mkdocs.structure.files import File

SPEC_FIELDS = "<!-- generated: spec-fields -->"
COMMAND_LINE = "<!-- generated: command-line -->"
EXAMPLES = "<!-- generated: examples -->"
EXAMPLES_INDEX = "examples/index.md"
# argparse wraps its help to the terminal; the reference is the same on every machine.
HELP_WIDTH = "96"


def spec_fields_table() -> str:
    """The Markdown table of every spec field: path, what it holds, default, meaning."""
    from explainer.spec.fields import described_fields

    rows = ["| field | holds | default | meaning |", "|---|---|---|---|"]
    for field in described_fields():
        default = field.default or "required"
        rows.append(f"| `{field.path}` | {field.holds} | {default} | {field.meaning} |")
    return "\n".join(rows)


def command_line_reference() -> str:
    """The help of ``explainer`` and of each of its commands, as argparse prints it."""
    import argparse

    from explainer.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        parser = build_parser()
        sections = [("explainer", parser.format_help())]
        for action in parser._actions:  # argparse keeps its subcommands here and nowhere public
            if isinstance(action, argparse._SubParsersAction):
                sections += [(f"explainer {name}", sub.format_help()) for name, sub in action.choices.items()]
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n\n".join(f"## `{title}`\n\n```text\n{text.rstrip()}\n```" for title, text in sections)


def example_page(example) -> str:
    """The page of one shipped example: what it is, how to get it, its spec, its derivation."""
    text = example.text()
    return "\n".join([
        f"# {example.name}", "", example.summary, "",
        f"Render it with `explainer render {example.name}`, or copy it with "
        f"`explainer examples {example.name} > {example.name}.toml` and change the numbers.", "",
        "## The spec", "", "```toml", text.rstrip(), "```", "",
        "## The derivation", "",
        "What `explainer render` writes for it, rendered here by explainer's Markdown extension:", "",
        "```explainer heading_level=3", text.rstrip(), "```", "",
    ])


def examples_table() -> str:
    """A line for each shipped example, linking to its page."""
    from explainer.spec.examples import shipped_examples

    rows = ["| example | what it is |", "|---|---|"]
    for example in shipped_examples():
        name = f"[`{example.name}`]({example.name}.md)" if example.is_spec else f"`{example.name}`"
        rows.append(f"| {name} | {example.summary} |")
    return "\n".join(rows)


def shipped_specs():
    from explainer.spec.examples import shipped_examples

    return [example for example in shipped_examples() if example.is_spec]


def on_config(config):
    """Put every example's page into the navigation, under the examples' overview."""
    pages = [f"examples/{example.name}.md" for example in shipped_specs()]

    def expand(entries):
        for entry in entries:
            if isinstance(entry, dict):
                for title, value in entry.items():
                    if value == EXAMPLES_INDEX:
                        entry[title] = [{"Overview": EXAMPLES_INDEX}, *pages]
                    elif isinstance(value, list):
                        expand(value)

    expand(config["nav"] or [])
    return config


def on_files(files, config):
    # The built-in example's figures, as render draws them, for the pages that show them.
    from explainer import derive
    from explainer.outputs.render import render_with_figures

    _, figures = render_with_figures(derive(), "markdown")
    for name, svg in figures.items():
        files.append(File.generated(config, f"assets/{name}", content=svg))
    for example in shipped_specs():
        files.append(File.generated(config, f"examples/{example.name}.md", content=example_page(example)))
    return files


def on_page_markdown(markdown, page, config, files):
    if SPEC_FIELDS in markdown:
        markdown = markdown.replace(SPEC_FIELDS, spec_fields_table())
    if EXAMPLES in markdown:
        markdown = markdown.replace(EXAMPLES, examples_table())
    if COMMAND_LINE in markdown:
        markdown = markdown.replace(COMMAND_LINE, command_line_reference())
    return markdown
