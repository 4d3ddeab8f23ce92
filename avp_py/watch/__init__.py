"""``avp-py watch``: ask Argo CD to re-render the Applications whose secrets changed (issue 14).

Argo CD caches rendered manifests until the commit changes, so a new version in Key Vault is
invisible until someone presses Hard Refresh. Renders record what they were served; the
watcher compares that with Key Vault's current versions (metadata only) and asks Argo CD for a
hard refresh of exactly the Applications that are behind. One module per job:

* :mod:`~avp_py.watch.records`: what a render records, and the record format (pure);
* :mod:`~avp_py.watch.refreshes`: the refreshes the watcher asked for (pure);
* :mod:`~avp_py.watch.store`: the state directory holding both (files);
* the planner, the Key Vault lookups, the Argo CD client and the loop follow (issue 14).
"""
