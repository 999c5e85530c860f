"""Command docstrings as help text that the terminal wraps: Typer keeps a docstring's line
breaks, and at 80 columns each source line then wraps again, leaving ragged half-lines."""

from __future__ import annotations

import inspect
import re

import typer

_KEEPS_ITS_BREAK = re.compile(r"^(\s|[-*] |\d+[.)] )")
"""A line that starts a list item or is indented keeps the break before it."""


def flowing(docstring: str) -> str:
    """``docstring`` with each paragraph's lines joined by spaces, paragraphs kept."""
    paragraphs = []
    for paragraph in inspect.cleandoc(docstring).split("\n\n"):
        lines = paragraph.split("\n")
        joined = lines[0]
        for line in lines[1:]:
            joined += ("\n" if _KEEPS_ITS_BREAK.match(line) else " ") + line
        paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def flow_help(app: typer.Typer) -> None:
    """Give every command of ``app`` that has no explicit help its docstring, flowing."""
    for command in app.registered_commands:
        if command.help is None and command.callback is not None and command.callback.__doc__:
            command.help = flowing(command.callback.__doc__)
