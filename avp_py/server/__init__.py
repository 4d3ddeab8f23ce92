"""The warm render server of issue 13: ``avp-py serve``, its client and ``avp-py sidecar``.

* :mod:`~avp_py.server.client`: the fast path of every ``avp-py generate``, run before click or
  anything else is imported (standard library only); :mod:`~avp_py.server.protocol`, the
  messages and descriptors it exchanges with the server;
* :mod:`~avp_py.server.loop`: the server's single-threaded event loop, with its parts
  :mod:`~avp_py.server.incoming` (connections), :mod:`~avp_py.server.renders` (render
  processes), :mod:`~avp_py.server.refreshes` (token refreshes), :mod:`~avp_py.server.state`,
  :mod:`~avp_py.server.forking` (why its forks are safe) and :mod:`~avp_py.server.child` (a
  render process);
* :mod:`~avp_py.server.warm`: what the server keeps warm for its renders (imports, Azure
  tokens and challenges);
* :mod:`~avp_py.server.supervisor`: ``avp-py sidecar``, PID 1 of the sidecar beside
  ``argocd-cmp-server``.

The command line (:mod:`avp_py.cli.serve`) starts the server and hands it the function its
renders run; nothing here imports :mod:`avp_py.cli`. This ``__init__`` imports nothing: the
client's start costs every render.
"""
