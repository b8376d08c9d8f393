"""The HTML pages' templates (``templates/*.j2``), filled in by Jinja2 with autoescape on, so
text from configs and project files (names, titles, descriptions) is always escaped and
never markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(template: str, **context: Any) -> str:
    """A template of ``templates/`` filled in, every value escaped."""
    import jinja2  # (only when a page is made: it takes a while to import)

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template(template).render(**context)
