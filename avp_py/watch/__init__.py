"""``avp-py watch``: ask Argo CD to re-render the Applications whose secrets changed (issue 14).

Argo CD caches rendered manifests until the commit changes, so a new version in Key Vault is
invisible until someone presses Hard Refresh. Renders record what they were served; the
watcher compares that with Key Vault's current versions (metadata only) and asks Argo CD for a
hard refresh of exactly the Applications that are behind. One module per job:

* :mod:`~avp_py.watch.records`: what a render records, and the record format (pure);
* :mod:`~avp_py.watch.refreshes`: the refreshes the watcher asked for (pure);
* :mod:`~avp_py.watch.store`: the state directory holding both (files);
* :mod:`~avp_py.watch.planner`: records + current versions -> refresh decisions (pure);
* :mod:`~avp_py.watch.lookup`: current versions through the backend layer (network, via the
  backend's ``VersionListingBackend`` capability; never a value, never the Azure SDK here);
* :mod:`~avp_py.watch.argocd`: the Argo CD API client (network);
* :mod:`~avp_py.watch.cycle`: one cycle, :mod:`~avp_py.watch.report`, what it did (pure), and
  :mod:`~avp_py.watch.loop`, the loop.
"""
