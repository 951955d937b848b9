"""Progress in the terminal: each step's line once, a bar only on a terminal, gone after."""

from __future__ import annotations

import io

from rich.console import Console

from bots.progress import ProgressLine


def test_piped_output_gets_one_line_per_step_and_no_bar() -> None:
    out = io.StringIO()
    with ProgressLine(Console(file=out, force_terminal=False)) as progress:
        progress("Opening the course index", 0, 0)
        for done in (32, 64, 100):
            progress("Adding the catalog to the search index", done, 100)
    assert out.getvalue().splitlines() == [
        "Opening the course index...",
        "Adding the catalog to the search index...",
    ]


def test_a_terminal_gets_a_bar_that_is_removed_when_the_wait_ends() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    progress = ProgressLine(console)
    progress("Embedding 3 new or changed catalog entries", 1, 3)
    progress("Embedding 3 new or changed catalog entries", 3, 3)
    assert progress._bar is not None
    progress.close()
    assert progress._bar is None
    text = out.getvalue()
    assert "Embedding 3 new or changed catalog entries..." in text and "3/3" in text
    # A new wait says its step again.
    progress("Opening the course index", 0, 0)
    progress.close()
    assert out.getvalue().count("Opening the course index...") == 1


def test_markup_in_a_step_is_printed_as_text() -> None:
    out = io.StringIO()
    ProgressLine(Console(file=out, force_terminal=False))("[bold]odd[/bold] step", 0, 0)
    assert out.getvalue() == "[bold]odd[/bold] step...\n"
