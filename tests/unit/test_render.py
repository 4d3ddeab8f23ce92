"""What ``render`` returns for ``avp-py watch``: the "latest" references and served versions."""

from __future__ import annotations

from avp_py.backends.base import BackendContext, SecretBackend
from avp_py.model import LatestVersion, SecretRef
from avp_py.render import render, start_deadline
from avp_py.settings import Settings, load_settings
from avp_py.sources import Source
from avp_py.testing import MemoryBackend

V1, V2 = "1" * 32, "2" * 32

MANIFEST = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: app
  annotations: {{avp.kubernetes.io/remove-missing: "true"}}
stringData:
  a: <path:kv#db>
  b: <path:kv#db>
  c: <path:kv#pinned#{V1}>
  d: <path:kv#unversioned>
  e: <path:kv#gone>
  f: <path:other#db | base64encode>
"""


def _build(settings: Settings, context: BackendContext) -> SecretBackend:
    """Versions as Key Vault reports them; ``unversioned`` as the file backend (none known)."""
    backend = MemoryBackend()
    backend.set_secret("kv", "db", "value", version=V2)
    backend.set_secret("kv", "pinned", "value", version=V1)
    backend.set_secret("kv", "unversioned", "value", versioned=False)
    backend.set_secret("other", "db", "value", version=V1)
    return backend


def test_latest_references_are_returned_with_the_version_served() -> None:
    result = render(
        [Source("in.yaml", MANIFEST)],
        load_settings({"AVP_TYPE": "file"}),
        start_deadline(10),
        build_backend=_build,
    )
    # pinned references cannot change; a backend that knows no version gives nothing to watch;
    # a missing secret (remove-missing) is watched for its creation
    assert result.latest == (
        LatestVersion(SecretRef("kv", "db"), V2),
        LatestVersion(SecretRef("kv", "gone"), None),
        LatestVersion(SecretRef("other", "db"), V1),
    )
    assert "value" not in repr(result)


def test_a_render_without_placeholders_watches_nothing() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    result = render(
        [Source("in.yaml", text)], load_settings({"AVP_TYPE": "file"}), start_deadline(10)
    )
    assert result.latest == ()
