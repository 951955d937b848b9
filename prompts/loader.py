"""The one way to read prompt files: templates fail loudly on a missing variable."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from prompts.parsed import PROMPT_DATA

PROMPTS_DIR = Path(__file__).parent


class PromptError(LookupError):
    """A prompt file or one of its variables is missing."""


# What Markdown viewers act on in text: raw HTML (it starts with "<"), links, code spans and
# table cells. A lone ">" is left alone: "2 -> 3/5" must read as written.
MARKDOWN_SPECIALS = str.maketrans({"<": "&lt;", "[": "\\[", "]": "\\]", "`": "\\`", "|": "\\|"})


def markdown_text(value: Any) -> Any:
    """Every value a Markdown template prints, as inert text: a review reason or a CV line
    with `<script>` or `[click](javascript:...)` stays text in any viewer."""
    return value.translate(MARKDOWN_SPECIALS) if isinstance(value, str) else value


@cache
def _environment(markdown: bool = False) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        # Markdown files escape what they print; the template's own markup is untouched.
        finalize=markdown_text if markdown else None,
    )


@lru_cache(maxsize=1024)
def _compiled(template: str) -> Any:
    # Compiling a template costs about a millisecond; the final turn renders ~26 of them.
    return _environment().from_string(template)


def render_string(template: str, **variables: Any) -> str:
    """Render a template given as text with `variables`; a missing one raises PromptError."""
    import jinja2

    try:
        return str(_compiled(template).render(**variables)).strip()
    except jinja2.UndefinedError as exc:
        raise PromptError(f"prompt variable missing: {exc.message}") from exc


def render(name: str, **variables: Any) -> str:
    """Render the template file `name` (relative to prompts/)."""
    import jinja2

    try:
        environment = _environment(markdown=name.endswith(".md.j2"))
        return str(environment.get_template(name).render(**variables))
    except jinja2.TemplateNotFound as exc:
        raise PromptError(f"prompt file missing: {name}") from exc
    except jinja2.UndefinedError as exc:
        raise PromptError(f"{name}: prompt variable missing: {exc.message}") from exc


@cache
def load_data(name: str) -> Any:
    """Read a YAML data file from prompts/ (questions, review texts); cached, treat as read-only.
    Stored parsed (prompts/parsed.py): the first question imports no YAML parser."""
    path = PROMPTS_DIR / name
    if not path.is_file():
        raise PromptError(f"prompt file missing: {name}")
    return PROMPT_DATA.read(path)
