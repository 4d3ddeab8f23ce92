"""``avp-py check PATH``: the command line of the check, for pull-request pipelines.

Settings are read as ``generate`` reads them (environment, ``-c`` config file, ``-s`` config
Secret). The report goes to stdout; ``Error:`` lines go to stderr only when the check itself
could not run (configuration, input, backend), with ``generate``'s exit codes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from avp_py.cli import process
from avp_py.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from avp_py.check.listing import ReferenceList
    from avp_py.check.report import CheckReport
    from avp_py.settings import Settings

# This module is imported by every ``avp-py`` run that reaches click (the command group registers
# it): the check itself and jinja2 are imported only when ``check`` runs.

FORMATS = ("text", "json", "markdown", "junit", "sarif")
LIST_FORMATS = ("text", "json")

EXIT_CODES_HELP = """\b
Exit codes:
  0  no error (warnings allowed unless --strict)
  1  internal error (a bug: please report it)
  2  configuration error (settings, flags, backend choice)
  3  input error (unreadable or invalid manifests)
  5  backend error (credentials, network, throttling, deadline)
  6  the check ran and found at least one error (every one is in the report)
  130 interrupted
Values are never fetched when the backend can describe a secret, never printed."""

_HELP = {
    "app": "Application name for {app} in AVP_SECRET_NAME_PATTERN (default: $ARGOCD_APP_NAME).",
    "strict": "Treat warnings (e.g. a placeholder outside a v1 Secret) as errors.",
    "list": (
        "Only list every referenced vault, secret and version with where it is used (text or"
        " json); no backend is contacted and no Azure setting is needed."
    ),
    "format": (
        "Report format: text (default), json (schema avp-py/check/v1), markdown, junit (JUnit"
        " XML) or sarif (SARIF 2.1.0, for code scanning annotations)."
    ),
    "config": process.CONFIG_HELP,
    "secret": "Kubernetes Secret holding config, [NAMESPACE:]NAME (namespace argocd).",
    "verbose": "Redacted diagnostics on stderr.",
}


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("path")
@click.option("--app", default=None, metavar="NAME", help=_HELP["app"])
@click.option("--strict", is_flag=True, help=_HELP["strict"])
@click.option("--list", "list_only", is_flag=True, help=_HELP["list"])
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", help=_HELP["format"]
)
@click.option("-c", "--config-path", default="", help=_HELP["config"])
@click.option("-s", "--secret-name", default="", help=_HELP["secret"])
@click.option("--verbose", is_flag=True, help=_HELP["verbose"])
def check(
    path: str,
    app: str | None,
    strict: bool,
    list_only: bool,
    output_format: str,
    config_path: str,
    secret_name: str,
    verbose: bool,
) -> None:
    """Check the secrets of PATH (a file, a directory, or - for stdin) without printing any."""
    process.configure_logging(verbose)
    if list_only:
        listing = process.guarded(lambda: _list(path, app, output_format, config_path, secret_name))
        click.echo(process.guarded(lambda: render_listing(listing, output_format)), nl=False)
        sys.exit(int(ExitCode.OK))
    report = process.guarded(lambda: _check(path, app, strict, config_path, secret_name))
    click.echo(process.guarded(lambda: render_report(report, output_format)), nl=False)
    sys.exit(int(ExitCode.OK if report.passed else ExitCode.FINDINGS))


def render_report(report: CheckReport, output_format: str) -> str:
    """The report in ``text``, ``json``, ``markdown``, ``junit`` or ``sarif``."""
    from avp_py.check import report as forms

    if output_format == "markdown":
        from avp_py.check.markdown import to_markdown

        return to_markdown(report)
    if output_format in ("junit", "sarif"):
        from avp_py.check import ci_formats

        return (
            ci_formats.to_junit(report) if output_format == "junit" else ci_formats.to_sarif(report)
        )
    return forms.to_json(report) if output_format == "json" else forms.to_text(report)


def render_listing(listing: ReferenceList, output_format: str) -> str:
    """The reference list in ``text`` or ``json``."""
    from avp_py.check import listing as forms

    return forms.to_json(listing) if output_format == "json" else forms.to_text(listing)


def _list(
    path: str, app: str | None, output_format: str, config_path: str, secret_name: str
) -> ReferenceList:
    from avp_py.check.run import list_references

    if output_format not in LIST_FORMATS:
        raise ConfigError(f"--list prints text or json, not {output_format}")
    settings = _settings(app, config_path, secret_name, backend_required=False)
    inputs, directory_mode = process.read_inputs(path, settings.max_input_bytes)
    return list_references(inputs, settings, directory_mode=directory_mode)


def _settings(
    app: str | None, config_path: str, secret_name: str, *, backend_required: bool = True
) -> Settings:
    overrides = {"ARGOCD_APP_NAME": app} if app is not None else None
    try:
        return process.load_command_settings(
            config_path, secret_name, {}, overrides, backend_required=backend_required
        )
    except ConfigError as exc:
        if "{app}" in str(exc):
            raise ConfigError(f"{exc}: pass --app NAME") from exc
        raise


def _check(
    path: str, app: str | None, strict: bool, config_path: str, secret_name: str
) -> CheckReport:
    from avp_py.check.run import check as run_check
    from avp_py.render import start_deadline

    settings = _settings(app, config_path, secret_name)
    deadline = start_deadline(settings.timeout_seconds)
    inputs, directory_mode = process.read_inputs(path, settings.max_input_bytes)
    return run_check(inputs, settings, deadline, directory_mode=directory_mode, strict=strict)
