"""Input generators: vault contents and manifest streams, deterministic for a given seed.

Every generator returns plain text (a multi-document YAML stream as ``helm template`` prints
it) and the numbers it was built to have, so the smoke test can check the generators and the
report can quote them. The AVP model (``bench.avp_model``) does not trust these numbers: it
recomputes everything it needs from the text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

_TEXT = """
the resource field value name namespace controller reconcile spec status condition selector label
annotation replica container image port protocol volume mount secret reference default optional
required deprecated string integer object array must should may when if set to be used by of for
"""
WORDS = tuple(_TEXT.split())


class SecretSink(Protocol):
    """What the generators need from the Key Vault test server."""

    def set_secret(self, vault: str, name: str, value: str) -> str: ...


@dataclass(frozen=True)
class Vault:
    """A seeded vault: secret name → version ids, oldest first (all enabled)."""

    name: str
    versions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def enabled(self) -> int:
        """Enabled secrets, as AVP's list counts them."""
        return len(self.versions)

    def oldest(self, index: int) -> str:
        return self.versions[secret_name(index)][0]


@dataclass(frozen=True)
class Manifests:
    """A generated stream and what it was built to contain."""

    text: str
    documents: int
    placeholders: int
    distinct: int

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))


def secret_name(index: int) -> str:
    return f"secret-{index:03d}"


def seed_vault(kv: SecretSink, vault: str, count: int, pinned: Sequence[int] = ()) -> Vault:
    """Create ``count`` secrets; those in ``pinned`` get a second version (so the oldest is
    not the latest, as a pinned reference usually is)."""
    versions: dict[str, list[str]] = {}
    for index in range(count):
        name = secret_name(index)
        rounds = 2 if index in pinned else 1
        versions[name] = [kv.set_secret(vault, name, f"{name}-v{n}") for n in range(rounds)]
    return Vault(vault, versions)


def stream(docs: Sequence[str]) -> str:
    """Documents joined as ``helm template`` prints them."""
    return "".join(f"---\n{doc}" for doc in docs)


# -- single documents -----------------------------------------------------------------------------
def inline(vault: str, name: str, version: str = "") -> str:
    return f"<path:{vault}#{name}#{version}>" if version else f"<path:{vault}#{name}>"


def generic_secret(name: str, vault: str, keys: Sequence[str]) -> str:
    """A Secret with the path annotation and one generic placeholder per key."""
    lines = [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {name}",
        "  labels:",
        "    app.kubernetes.io/name: bench",
        "    app.kubernetes.io/managed-by: Helm",
        "  annotations:",
        f"    avp.kubernetes.io/path: {vault}",
        "type: Opaque",
        "stringData:",
    ]
    lines += [f"  {key.upper().replace('-', '_')}: <{key}>" for key in keys[:-1]]
    lines.append(f'  DATABASE_URL: "postgres://app:<{keys[-1]}>@db.example:5432/app"')
    return "\n".join(lines) + "\n"


def deployment(name: str, env: Sequence[tuple[str, str]] = (), image: str = "nginx:1.27") -> str:
    """A Deployment whose single container gets ``env`` (values may hold placeholders)."""
    env_lines = [f"        - name: {key}\n          value: {value}" for key, value in env]
    env_block = ("        env:\n" + "\n".join(env_lines) + "\n") if env else ""
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  labels:\n"
        f"    app.kubernetes.io/name: {name}\n"
        "    app.kubernetes.io/managed-by: Helm\n"
        "spec:\n"
        "  replicas: 2\n"
        "  selector:\n"
        "    matchLabels:\n"
        f"      app.kubernetes.io/name: {name}\n"
        "  template:\n"
        "    metadata:\n"
        "      labels:\n"
        f"        app.kubernetes.io/name: {name}\n"
        "    spec:\n"
        "      serviceAccountName: bench\n"
        "      containers:\n"
        f"      - name: {name}\n"
        f"        image: {image}\n"
        "        ports:\n"
        "        - containerPort: 8080\n"
        "          protocol: TCP\n"
        f"{env_block}"
        "        resources:\n"
        "          limits: {cpu: 500m, memory: 256Mi}\n"
        "          requests: {cpu: 50m, memory: 64Mi}\n"
        "        readinessProbe:\n"
        "          httpGet: {path: /healthz, port: 8080}\n"
    )


def service(name: str) -> str:
    return (
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        f"  name: {name}\n"
        "  labels:\n"
        f"    app.kubernetes.io/name: {name}\n"
        "spec:\n"
        "  type: ClusterIP\n"
        "  selector:\n"
        f"    app.kubernetes.io/name: {name}\n"
        "  ports:\n"
        "  - name: http\n"
        "    port: 80\n"
        "    targetPort: 8080\n"
    )


def config_map(name: str, data: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"  {key}: {value}\n" for key, value in data)
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{body}"


def inline_secret(name: str, data: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"  {key}: {value}\n" for key, value in data)
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n"
        f"  name: {name}\ntype: Opaque\nstringData:\n{body}"
    )


# -- CRDs (the bulk of a passthrough stream) ------------------------------------------------------
def _description(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 40))]
    if rng.random() < 0.2:
        words.insert(3, "<namespace>/<name>")  # angle brackets that are not placeholders
    return " ".join(words).capitalize() + "."


def _properties(rng: random.Random, depth: int, indent: int) -> Iterator[str]:
    pad = " " * indent
    for index in range(6 if depth else 10):
        yield f"{pad}field{depth}x{index}:"
        yield f"{pad}  description: {_description(rng)}"
        if depth < 3:
            yield f"{pad}  type: object"
            yield f"{pad}  properties:"
            yield from _properties(rng, depth + 1, indent + 4)
        else:
            yield f"{pad}  type: {rng.choice(['string', 'integer', 'boolean'])}"


def crd_template(seed: int) -> str:
    """A CustomResourceDefinition of about 100 KB; ``NAME`` marks where copies differ."""
    rng = random.Random(seed)
    head = [
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata:",
        "  name: NAMEs.bench.example.com",
        "  annotations:",
        "    controller-gen.kubebuilder.io/version: v0.16.1",
        "spec:",
        "  group: bench.example.com",
        "  names: {kind: NAME, listKind: NAMEList, plural: NAMEs, singular: NAME}",
        "  scope: Namespaced",
        "  versions:",
        "  - name: v1",
        "    served: true",
        "    storage: true",
        "    schema:",
        "      openAPIV3Schema:",
        "        type: object",
        "        properties:",
    ]
    return "\n".join([*head, *_properties(rng, 1, 10)]) + "\n"


# -- scenario streams -----------------------------------------------------------------------------
BIG_VAULT_SIZE = 400
BIG_LATEST = 100  # secret-000 … secret-099, referenced at their latest version
BIG_PINNED = range(100, 120)  # secret-100 … secret-119, referenced at their oldest version
SMALL_VAULT_SIZE = 5
SMALL_PINNED = (3, 4)
PASS_VAULT_SIZE = 5
THROTTLE_VAULT_SIZE = 20


def big_chart(vault: Vault) -> Manifests:
    """300 documents: 100 annotated Secrets (6 generic placeholders each), 100 Deployments (8
    inline latest + 1 inline pinned), 100 Services; 1,500 placeholders, 120 distinct secrets."""
    docs: list[str] = []
    for i in range(100):
        keys = [secret_name((i * 6 + j) % BIG_LATEST) for j in range(6)]
        docs.append(generic_secret(f"app-{i:03d}-secrets", vault.name, keys))
        env = [
            (f"SECRET_{j}", inline(vault.name, secret_name((i * 8 + j + 37) % BIG_LATEST)))
            for j in range(8)
        ]
        pinned = BIG_PINNED[i % len(BIG_PINNED)]
        env.append(("PINNED", inline(vault.name, secret_name(pinned), vault.oldest(pinned))))
        docs += [deployment(f"app-{i:03d}", env), service(f"app-{i:03d}")]
    return Manifests(stream(docs), 300, 1500, BIG_LATEST + len(BIG_PINNED))


def _small_ref(vault: Vault, index: int) -> str:
    version = vault.oldest(index) if index in SMALL_PINNED else ""
    return inline(vault.name, secret_name(index), version)


def small_app(vault: Vault) -> Manifests:
    """10 documents; 20 inline occurrences of 5 secrets (2 of them pinned)."""
    refs = [
        [_small_ref(vault, (doc * 4 + j) % SMALL_VAULT_SIZE) for j in range(4)] for doc in range(5)
    ]
    docs = [
        config_map("web-config", [(f"key{j}", ref) for j, ref in enumerate(refs[0])]),
        inline_secret("web-secrets", [(f"KEY_{j}", ref) for j, ref in enumerate(refs[1])]),
        deployment("web", [(f"ENV_{j}", ref) for j, ref in enumerate(refs[2])]),
        deployment("worker", [(f"ENV_{j}", ref) for j, ref in enumerate(refs[3])]),
        inline_secret("worker-secrets", [(f"KEY_{j}", ref) for j, ref in enumerate(refs[4])]),
        service("web"),
        service("worker"),
        config_map("web-settings", [("LOG_LEVEL", "info"), ("USAGE", "'web <command> [flags]'")]),
        deployment("cron", []),
        deployment("metrics", []),
    ]
    return Manifests(stream(docs), 10, 20, SMALL_VAULT_SIZE)


def no_placeholders() -> Manifests:
    """50 documents without a single placeholder (angle brackets in text included)."""
    docs: list[str] = []
    for i in range(50):
        kind = i % 3
        if kind == 0:
            docs.append(deployment(f"svc-{i:02d}", [("MODE", "production")]))
        elif kind == 1:
            docs.append(service(f"svc-{i:02d}"))
        else:
            usage = "'Usage: <command> --namespace <namespace>'"
            docs.append(config_map(f"svc-{i:02d}", [("USAGE", usage), ("LEVEL", "debug")]))
    return Manifests(stream(docs), 50, 0, 0)


def passthrough(vault: Vault, target_bytes: int) -> Manifests:
    """CRD-heavy stream of at least ``target_bytes``; every 100th document (1 %) is a Secret
    with 3 inline placeholders."""
    crds = [crd_template(seed) for seed in range(4)]
    docs: list[str] = []
    size = placeholders = 0
    while size < target_bytes:
        i = len(docs)
        if i % 100 == 50:
            refs = [
                inline(vault.name, secret_name((i // 100 + j) % PASS_VAULT_SIZE)) for j in range(3)
            ]
            doc = inline_secret(f"creds-{i}", [(f"KEY_{j}", ref) for j, ref in enumerate(refs)])
            placeholders += 3
        elif i % 5 == 0:
            doc = crds[(i // 5) % len(crds)].replace("NAME", f"widget{i}")
        else:
            doc = (deployment, service, _plain_config)[i % 3](f"res-{i}")
        docs.append(doc)
        size += len(doc) + 4
    distinct = min(PASS_VAULT_SIZE, placeholders)
    return Manifests(stream(docs), len(docs), placeholders, distinct)


def _plain_config(name: str) -> str:
    return config_map(name, [("LEVEL", "info"), ("FEATURES", "'a,b,c'")])


def throttle_app(vault: Vault) -> Manifests:
    """10 documents; 40 inline occurrences of 20 secrets (one of 20 concurrent renders)."""
    docs: list[str] = []
    for d in range(5):
        env = [
            (f"ENV_{j}", inline(vault.name, secret_name((d * 8 + j) % THROTTLE_VAULT_SIZE)))
            for j in range(8)
        ]
        docs += [deployment(f"api-{d}", env), service(f"api-{d}")]
    return Manifests(stream(docs), 10, 40, THROTTLE_VAULT_SIZE)
