"""Help text flows: a docstring's paragraph is one paragraph on an 80-column terminal, not the
source's line breaks wrapped again."""

from __future__ import annotations

from rfloc_core.cli import app
from rfloc_core.cli.help_text import flowing
from rfloc_core.cli.plugin_cmd import plugin_app
from tests.cli_runner import run_rfloc


def test_paragraph_lines_are_joined_and_list_items_and_paragraphs_kept():
    doc = """First line
    goes on.

    Second paragraph
    - an item
    - another
      indented"""
    expected = "First line goes on.\n\nSecond paragraph\n- an item\n- another\n  indented"
    assert flowing(doc) == expected


def test_every_command_s_help_is_its_flowing_docstring():
    for typer_app in (app, plugin_app):
        for command in typer_app.registered_commands:
            assert command.help == flowing(command.callback.__doc__), command.name


def test_train_help_at_80_columns_breaks_only_where_the_terminal_ends():
    result = run_rfloc("train", "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    description = result.stdout.split("╭")[0]
    lines = [line.rstrip() for line in description.splitlines() if line.strip()]
    # Each wrapped line runs to within a word of the 80 columns, except a paragraph's last.
    assert "to MLflow, registers the model" in " ".join(lines)
    assert not any(line.endswith("MLflow,") for line in lines), lines
