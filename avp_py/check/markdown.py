"""The Markdown report for pull-request comments, from the packaged jinja2 template.

Every text that comes from a manifest is escaped for GitHub-flavoured Markdown: HTML in
plain cells (``<path:...>`` would otherwise vanish as an unknown tag), table pipes and line
breaks everywhere; fields and objects are code spans, which are literal.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup, escape

from avp_py.check.report import CheckReport

TEMPLATE = "check.md.j2"


def _flat(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _cell(text: object) -> Markup:
    """Text safe inside a Markdown table cell: HTML-escaped, pipes escaped, one line."""
    return Markup(_flat(str(escape(str(text)))))


def _code(text: object) -> Markup:
    """Text as inline code in a table cell (code spans are literal: no HTML escaping)."""
    value = _flat(str(text))
    if not value:
        return Markup("")
    if "`" in value:
        return Markup(f"`` {value} ``")
    return Markup(f"`{value}`")


def environment() -> jinja2.Environment:
    """The template environment: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("avp_py", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _cell
    env.filters["code"] = _code
    return env


def to_markdown(report: CheckReport) -> str:
    """The report as Markdown."""
    return environment().get_template(TEMPLATE).render(report=report)
