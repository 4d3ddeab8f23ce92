"""The commands' ``--help`` stays true to the code."""

from __future__ import annotations

from avp_py.cli import process
from avp_py.cli.app import cli
from avp_py.settings.configfile import EXTENSIONS


def test_the_config_help_lists_every_extension_configfile_reads() -> None:
    listed = process.CONFIG_HELP.removeprefix("Config file, by extension: ").removesuffix(".")
    assert listed.replace(" or ", ", ").split(", ") == list(EXTENSIONS)


def test_every_command_with_a_config_path_shows_that_help() -> None:
    helps = {
        name: getattr(param, "help", None)
        for name, command in cli.commands.items()
        for param in command.params
        if "--config-path" in param.opts
    }
    assert {"generate", "check", "watch"} <= set(helps)
    assert set(helps.values()) == {process.CONFIG_HELP}
