"""After a successful ``generate``: record what it served for ``avp-py watch`` (issue 14).

The library returns the "latest" references and their served versions
(:attr:`avp_py.render.RenderResult.latest`); this edge adds what only the process knows (the
Application's source from ``ARGOCD_APP_SOURCE_*``, the time) and writes the record. Only a
render that succeeded and printed its output gets here; a render without an Application name
(a workstation, a CI job) records nothing. Failing to write is a warning, never a failed
render: the manifests are already on stdout.
"""

from __future__ import annotations

import logging
import os
import time

from avp_py.render import RenderResult
from avp_py.settings import Settings

log = logging.getLogger("avp_py")


def record_render(settings: Settings, result: RenderResult) -> None:
    """Write the watch record of this render, if ``AVP_WATCH_STATE_DIR`` is set."""
    if not settings.watch_state_dir or not settings.app.name:
        return
    # Imported only by renders that record: the watch package is not on generate's fast path.
    from avp_py.watch.records import AppRecord, AppSource, identity_of
    from avp_py.watch.store import StateDirectory, StateUnavailable

    source = AppSource(
        os.environ.get("ARGOCD_APP_SOURCE_REPO_URL", ""),
        os.environ.get("ARGOCD_APP_SOURCE_PATH", ""),
        os.environ.get("ARGOCD_APP_SOURCE_TARGET_REVISION", ""),
    )
    record = AppRecord(
        application=settings.app.name,
        project=settings.app.project,
        source=source,
        identity=identity_of(settings.backend, settings.options),
        rendered_at=time.time(),
        latest=result.latest,
    )
    try:
        StateDirectory(settings.watch_state_dir).open().write_record(record)
    except (StateUnavailable, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.warning("this render was not recorded for avp-py watch: %s", reason)
