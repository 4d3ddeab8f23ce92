"""``AVP_AZURE_IDENTITIES``: the workload identity of a render, chosen by its AppProject. Pure.

The setting is comma-separated ``PROJECT_GLOB=CLIENT_ID`` pairs, tried in order; the first
glob (shell-style: ``*``, ``?``, ``[...]``, case-sensitive) matching the Application's
AppProject (``ARGOCD_APP_PROJECT_NAME``, which Argo CD sets and an Application cannot change)
gives the client id, and ``*=CLIENT_ID`` is the default. With AKS workload identity one service
account token is exchanged for any user-assigned identity that has a federated credential
trusting it, so each team's renders authenticate as the team's identity, and Azure RBAC on the
team's vault is the boundary between teams.

The chosen client id replaces ``AZURE_CLIENT_ID`` in the render's settings before anything is
built, so everything that depends on the identity follows it: the credential and its tokens,
the cross-run cache's namespace, the render server's warm tokens (used only when the render's
identity is the server's), and watch records. A sidecar setting only: an Application cannot
change it (``ARGOCD_ENV_AVP_AZURE_IDENTITIES`` is refused like any operator setting).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from avp_py.errors import ConfigError

SETTING = "AVP_AZURE_IDENTITIES"
CLIENT_ID = "AZURE_CLIENT_ID"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_EXAMPLE = "team-a=CLIENT_ID,team-b-*=CLIENT_ID,*=CLIENT_ID"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``PROJECT_GLOB=CLIENT_ID`` pair."""

    glob: str
    client_id: str


def parse(text: str) -> tuple[Rule, ...]:
    """The pairs of the setting, in order; ConfigError naming the setting if malformed."""
    rules: list[Rule] = []
    for position, entry in enumerate(text.split(","), 1):
        glob, equals, client_id = (part.strip() for part in entry.partition("="))
        if not equals or not glob or not client_id:
            raise ConfigError(
                f"{SETTING}: entry {position} ({entry.strip()!r}) is not PROJECT_GLOB=CLIENT_ID;"
                f" write comma-separated pairs, e.g. {_EXAMPLE}"
            )
        if not _GUID.fullmatch(client_id):
            raise ConfigError(
                f"{SETTING}: entry {position} ({glob}=...): the client id must be a GUID"
                " (the identity's client id, e.g. from az identity show --query clientId)"
            )
        rules.append(Rule(glob, client_id))
    return tuple(rules)


def choose(rules: tuple[Rule, ...], project: str) -> str | None:
    """The client id of the first rule whose glob matches ``project``; None if none does."""
    for rule in rules:
        if fnmatch.fnmatchcase(project, rule.glob):
            return rule.client_id
    return None


def every_identity(options: Mapping[str, str]) -> list[dict[str, str]]:
    """``options`` as each identity the setting can choose has them, one per client id, in
    order (``[options]`` without the setting); ConfigError if the setting is malformed.

    For a process that serves several projects (``watch``), to check its settings at start-up
    as a render of each project would: with the setting, ``AZURE_CLIENT_ID`` comes from it."""
    text = options.get(SETTING, "").strip()
    if not text:
        return [dict(options)]
    client_ids = dict.fromkeys(rule.client_id for rule in parse(text))
    return [{**options, CLIENT_ID: client_id} for client_id in client_ids]


def select_options(options: Mapping[str, str], project: str) -> dict[str, str]:
    """``options`` with ``AZURE_CLIENT_ID`` set to the identity ``project`` maps to (unchanged
    without the setting); ConfigError if the setting is malformed or maps nothing to it."""
    text = options.get(SETTING, "").strip()
    if not text:
        return dict(options)
    client_id = choose(parse(text), project)
    if client_id is None:
        who = f"the AppProject {project!r}" if project else "no AppProject"
        raise ConfigError(
            f"{SETTING} maps no identity to {who} (ARGOCD_APP_PROJECT_NAME) and has no default"
            " (*=CLIENT_ID): add an entry for it; nothing was requested"
        )
    return {**options, CLIENT_ID: client_id}
