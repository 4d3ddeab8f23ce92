"""The Markdown report for pull-request comments, from the packaged jinja2 template.

Every text that comes from a manifest (file names, keys, placeholders, messages) is one line
(:func:`~avp_py.printable.one_line`) and cannot change the comment around it (issue 11,
item 6): in plain cells, HTML is escaped (``<!--`` would hide every finding after it, and
``<path:...>`` vanish as an unknown tag) and so is the Markdown that makes links, images,
emphasis and code spans (``[x](url)``, ``![x](url)``, ``https://``, ``www.``); fields and
objects are code spans, which are literal, fenced by more backticks than they hold.

A pull-request comment is also read by GitHub for ``@user`` and ``@org/team`` mentions (which
notify people) and ``#123`` / ``GH-123`` references (which link, and cross-reference, issues).
In plain cells a zero-width space (U+200B) goes after the ``@``, the ``#`` and the ``GH-``: the
text reads the same and GitHub finds no mention or reference. Code spans need nothing: GitHub
makes none inside them.
"""

from __future__ import annotations

import re

import jinja2
from markupsafe import Markup, escape

from avp_py.check.report import CheckReport
from avp_py.printable import one_line

TEMPLATE = "check.md.j2"
# Markdown syntax characters, escaped with a backslash (any ASCII punctuation may be). HTML's
# own characters are left to markupsafe; ':', '#', '(' stay readable (placeholders are full
# of them) since they make nothing without '[' or a URL scheme.
_MARKDOWN = re.compile(r"([\\`*_~\[\]!])")
_AUTOLINKS = (("://", ":\\/\\/"), ("www.", "www\\."))  # GitHub links these bare
# What GitHub turns into a mention or an issue reference: '@' before a user or team name, '#'
# or 'GH-' before a number (also after a repository name: org/repo#1).
_MENTIONS = re.compile(r"@(?=[A-Za-z0-9])|#(?=[0-9])|\bGH-(?=[0-9])", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"


def _flat(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def _cell(text: object) -> Markup:
    """Text safe inside a Markdown table cell: Markdown and HTML escaped, pipes escaped, no
    mention or issue reference, one line."""
    value = _MARKDOWN.sub(r"\\\1", one_line(str(text)))
    value = _MENTIONS.sub(lambda m: m.group() + _ZERO_WIDTH_SPACE, value)
    for bare, escaped in _AUTOLINKS:
        value = value.replace(bare, escaped)
    return Markup(str(escape(value)).replace("|", "\\|"))


def _code(text: object) -> Markup:
    """Text as inline code in a table cell: code spans are literal (no HTML or Markdown
    escaping); the fence is longer than any run of backticks inside, so none can close it."""
    value = _flat(str(text))
    if not value:
        return Markup("")
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    if not longest:
        return Markup(f"`{value}`")
    fence = "`" * (longest + 1)
    return Markup(f"{fence} {value} {fence}")


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
