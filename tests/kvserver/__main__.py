"""Run the Key Vault test server standalone (for benchmarks that start avp-py as subprocesses).

    python -m tests.kvserver [--latency-ms 20] [--seed FILE.yaml] [--credential managed]

Prints the client environment (see ``KeyVaultServer.client_env``) as one JSON line on stdout,
then serves until SIGINT/SIGTERM. The seed file (YAML or JSON) looks like::

    vaults:
      myvault:
        db-password: s3cret                   # one version
        api-key: [old-value, new-value]       # versions, oldest first
        cert-backed: {value: x, content_type: text/plain, tags: {a: b}, enabled: true}
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .server import KeyVaultServer


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.kvserver", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay per Key Vault request")
    parser.add_argument("--seed", type=Path, help="YAML/JSON file with vaults and secrets")
    parser.add_argument(
        "--credential",
        choices=["managed", "workload", "secret", "none"],
        default="managed",
        help="which credential variables to print (default: managed)",
    )
    parser.add_argument(
        "--rate-limit", type=int, help="requests allowed per --rate-window (429 past it)"
    )
    parser.add_argument("--rate-window", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--tenant-id", help="tenant id (default: random)")
    return parser.parse_args(argv)


def _add_version(kv: KeyVaultServer, vault: str, name: str, spec: Any) -> None:
    if isinstance(spec, dict):
        kv.set_secret(
            vault,
            name,
            str(spec["value"]),
            enabled=bool(spec.get("enabled", True)),
            content_type=spec.get("content_type"),
            tags={str(k): str(v) for k, v in spec["tags"].items()} if spec.get("tags") else None,
        )
    else:
        kv.set_secret(vault, name, str(spec))


def seed(kv: KeyVaultServer, data: Any) -> None:
    """Load a seed document (see the module docstring) into the server."""
    vaults = data.get("vaults", {}) if isinstance(data, dict) else {}
    for vault, secrets in vaults.items():
        kv.add_vault(str(vault))
        for name, spec in (secrets or {}).items():
            for version in spec if isinstance(spec, list) else [spec]:
                _add_version(kv, str(vault), str(name), version)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with KeyVaultServer(tenant_id=args.tenant_id) as kv:
        if args.seed is not None:
            seed(kv, yaml.safe_load(args.seed.read_text()))
        kv.faults.latency = args.latency_ms / 1000.0
        if args.rate_limit:
            kv.faults.rate_limit(args.rate_limit, args.rate_window)
        sys.stdout.write(json.dumps(kv.client_env(args.credential)) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
