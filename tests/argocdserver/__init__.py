"""A stand-in for Argo CD's API server, for ``avp-py watch`` tests (test tooling, not product).

HTTPS on 127.0.0.1 with a throw-away CA (``tests.kvserver.ca``), a bearer token checked on
every request, and ``GET /api/v1/applications/{name}`` answered as Argo CD's
``ApplicationService.Get`` answers it (``server/application/application.go``):

* no or a wrong ``Authorization: Bearer`` -> 401 ``no session information`` / ``invalid session``;
* ``appNamespace`` selects the Application's namespace (default: Argo CD's own, ``argocd``);
* the Application does not exist -> 404 when one ``project`` was given (the caller may read that
  project), 403 ``permission denied`` when none was (Argo CD never confirms a name then);
* it exists in another project than the ``project`` given -> 404; the account may not read its
  project (``deny_project``) -> 403;
* otherwise 200 with the Application; ``refresh=hard`` (or ``normal``) is recorded.

Example::

    with ArgoCdServer() as argocd:
        argocd.add_app("orders", project="team-a")            # in namespace argocd
        argocd.add_app("pay", project="team-b", namespace="apps")   # ARGOCD_APP_NAME apps_pay
        env = argocd.client_env()  # ARGOCD_SERVER, ARGOCD_AUTH_TOKEN, AVP_WATCH_ARGOCD_CA_FILE
        ...
        argocd.hard_refreshes()    # [("argocd", "orders"), ...] in arrival order
        argocd.fail_next(2, status=500); argocd.latency = 5.0; argocd.stop()   # faults

Every request is recorded (:class:`Recorded`), answered or not; ``errors`` holds tracebacks of
the server's own failures (should stay empty).
"""

from .server import ArgoCdServer, Recorded

__all__ = ["ArgoCdServer", "Recorded"]
