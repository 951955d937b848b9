"""The one way to read prompt files: templates fail loudly on a missing variable."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).parent


class PromptError(LookupError):
    """A prompt file or one of its variables is missing."""


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
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
        return str(_environment().get_template(name).render(**variables))
    except jinja2.TemplateNotFound as exc:
        raise PromptError(f"prompt file missing: {name}") from exc
    except jinja2.UndefinedError as exc:
        raise PromptError(f"{name}: prompt variable missing: {exc.message}") from exc


@cache
def load_data(name: str) -> Any:
    """Read a YAML data file from prompts/ (questions, review texts); cached, treat as read-only."""
    import yaml

    path = PROMPTS_DIR / name
    if not path.is_file():
        raise PromptError(f"prompt file missing: {name}")
    # The C loader where PyYAML has it: the question files are read on the way to the first question.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
