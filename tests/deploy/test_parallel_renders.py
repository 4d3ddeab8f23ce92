"""Argo CD runs many renders at once: 20 processes sharing one cross-run cache.

Through the real console script: every process must print the same, correct output, and the
cache must be consistent afterwards (SQLite integrity check, one entry per distinct secret).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from avp_py.backends.cache.store import FILENAME

SECRETS = "kv-a:\n" + "".join(f"  s{i}: value-{i}\n" for i in range(30))
MANIFEST = "".join(
    f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: m{d}\n"
    f"stringData:\n  a: <path:kv-a#s{d % 30}>\n  b: <path:kv-a#s{(d * 7) % 30}>\n"
    for d in range(40)
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AVP_", "ARGOCD_"))}
    env.update(
        AVP_TYPE="file",
        AVP_FILE_PATH=str(tmp_path / "secrets.yaml"),
        AVP_CACHE_DIR=str(tmp_path / "cache"),
        AVP_CACHE_KEY="a-cache-key-of-at-least-32-characters",
    )
    return env


def test_twenty_renders_share_the_cache(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text(SECRETS)
    avp = Path(sys.executable).parent / "avp-py"
    runs = [
        subprocess.Popen(
            [str(avp), "generate", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(tmp_path),
        )
        for _ in range(20)
    ]
    results = [run.communicate(MANIFEST.encode(), timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 20, results[0][1].decode()
    outputs = {stdout for stdout, _ in results}
    assert len(outputs) == 1
    output = outputs.pop().decode()
    assert "<path:" not in output and "value-7" in output
    assert all(b"Traceback" not in stderr for _, stderr in results)
    with sqlite3.connect(tmp_path / "cache" / FILENAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 30
    db.close()
