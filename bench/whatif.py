"""What-if: avp-py's render time with candidate fixes patched in, to size them before coding.

    python -m bench.whatif [--scenario passthrough] [--repeat 3] [--quick]

Renders a scenario's input with the ``file`` backend (no network, no Azure SDK: the CPU work
of reading, planning, substituting and writing only), in a new process per run, once as is
and once per variant; each variant monkeypatches avp-py's internals in the child process:

* ``secret-kind``: :func:`avp_py.stream.needs_parsing` treats a document as a possible Secret
  only if a ``kind: Secret`` line appears in it (at any indentation, quoted or not), not
  whenever the word "Secret" does, as in CRD descriptions and fields like ``passwordSecretRef``;
* ``alias-precheck``: the YAML loader looks for aliases with its regular expression only if
  the text holds a ``*`` at all;
* ``gc-off``: the cyclic garbage collector stays off for the whole (short-lived) process;
* ``all``: the three together.

A variant whose target no longer exists in avp-py is reported as n/a. ``--profile VARIANT``
prints the CPU profile of one render with that variant instead. This is a measuring aid; it
changes nothing on disk.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

VARIANTS = ("as-is", "secret-kind", "alias-precheck", "gc-off", "all")
# Conservative: any ``kind: Secret`` line, at any indentation, quoted or not, means "parse".
_SECRET_KIND = re.compile(r"^[ \t-]*[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?Secret\b", re.MULTILINE)
_TOP_KIND = re.compile(r"^kind:[ \t]*[A-Za-z][A-Za-z0-9]*[ \t]*(?:#[^\n]*)?$", re.MULTILINE)


class NotApplicable(RuntimeError):
    """The internals a variant patches are not there (any more)."""


# -- in the child process -------------------------------------------------------------------------
def _secret_kind() -> None:
    from avp_py import stream

    escape = getattr(stream, "_ESCAPE", None)
    if not hasattr(stream, "needs_parsing") or escape is None:
        raise NotApplicable("avp_py.stream.needs_parsing/_ESCAPE")
    markers = ("<path:", "avp.kubernetes.io", "kustomize.config.k8s.io")

    def needs_parsing(chunk: Any) -> bool:
        text: str = chunk.text
        if chunk.is_json or text.lstrip().startswith(("{", "[")):
            return True
        if any(marker in text for marker in markers):
            return True
        if "\\" in text and escape.search(text):
            return True
        if "Secret" in text and _SECRET_KIND.search(text):
            return True
        return _TOP_KIND.search(text) is None  # no plain top-level kind: parse

    stream.needs_parsing = needs_parsing


def _alias_precheck() -> None:
    from avp_py.yamlcodec import _yaml_load

    found = getattr(_yaml_load, "_ALIAS", None)
    if found is None:
        raise NotApplicable("avp_py.yamlcodec._yaml_load._ALIAS")
    pattern: re.Pattern[str] = found

    class PreChecked:
        def search(self, text: str) -> object:
            return "*" in text and pattern.search(text)

    _yaml_load._ALIAS = PreChecked()  # type: ignore[assignment]


PATCHES: dict[str, Sequence[Callable[[], None]]] = {
    "as-is": (),
    "secret-kind": (_secret_kind,),
    "alias-precheck": (_alias_precheck,),
    "gc-off": (gc.disable,),
    "all": (gc.disable, _secret_kind, _alias_precheck),
}


def child(variant: str, report: Path) -> int:
    """Patch, render stdin to stdout in-process, write the timings to ``report``."""
    begin = time.perf_counter()
    try:
        for patch in PATCHES[variant]:
            patch()
    except NotApplicable as exc:
        report.write_text(json.dumps({"error": f"n/a: {exc} not found"}))
        return 3
    from avp_py import cli

    imported = time.perf_counter()
    code: object = 0
    try:
        cli.main(["generate", "-"])
    except SystemExit as exc:
        code = exc.code
    done = time.perf_counter()
    report.write_text(json.dumps({"imports": imported - begin, "render": done - imported}))
    return int(code) if isinstance(code, int) else 1


# -- in the benchmark process ---------------------------------------------------------------------
class _Versions:
    def set_secret(self, vault: str, name: str, value: str) -> str:
        return uuid.uuid4().hex


def _inputs(scenario: str, quick: bool, workdir: Path) -> tuple[Path, Path]:
    from bench import inputs
    from bench.avp_model import avp_pattern
    from bench.scenarios import PASSTHROUGH_BYTES, PASSTHROUGH_QUICK_BYTES

    sink = _Versions()
    if scenario == "big-chart":
        vault = inputs.seed_vault(sink, "bench-big", inputs.BIG_VAULT_SIZE, inputs.BIG_PINNED)
        manifests = inputs.big_chart(vault)
    else:
        size = PASSTHROUGH_QUICK_BYTES if quick else PASSTHROUGH_BYTES
        manifests = inputs.passthrough(inputs.seed_vault(sink, "bench-pass", 5), size)
    data: dict[str, dict[str, str]] = {}
    for vault_name, key, version in avp_pattern(manifests.text, {}).refs:
        data.setdefault(f"{vault_name}#{version}" if version else vault_name, {})[key] = "x"
    stream, secrets = workdir / f"{scenario}.yaml", workdir / "secrets.yaml"
    stream.write_text(manifests.text, encoding="utf-8")
    secrets.write_text(yaml.safe_dump(data), encoding="utf-8")
    return stream, secrets


def _measure(
    variant: str, stream: Path, env: dict[str, str], workdir: Path, prefix: Sequence[str] = ()
) -> dict[str, float]:
    from bench.measure import Job, launch

    report = workdir / f"{variant}.json"
    argv = [sys.executable, *prefix, "-m", "bench.whatif", "--child", variant]
    argv += ["--report", str(report)]
    job = Job(argv, stream, workdir / "out", workdir / "err")
    [run] = launch([job], env)
    found = json.loads(report.read_text()) if report.exists() else {}
    if "error" in found or run.returncode != 0:
        raise NotApplicable(found.get("error") or (workdir / "err").read_text()[-500:])
    return {"wall": run.wall, "cpu": run.cpu, "rss": run.maxrss_mb, **found}


def whatif(scenario: str, repeat: int, quick: bool, profile: str | None = None) -> str:
    from bench.measure import clean_env, median
    from bench.report import ms, table

    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="avp-whatif-") as tmp:
        workdir = Path(tmp)
        stream, secrets = _inputs(scenario, quick, workdir)
        env = clean_env({"AVP_TYPE": "file", "AVP_FILE_PATH": str(secrets)})
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        if profile:
            return _profile(profile, stream, env, workdir)
        for variant in VARIANTS:
            try:
                runs = [_measure(variant, stream, env, workdir) for _ in range(repeat + 1)][1:]
            except NotApplicable as exc:
                rows.append([variant, str(exc), "", "", "", ""])
                continue
            cells = [median([r[key] for r in runs]) for key in ("wall", "cpu", "render")]
            rss = median([r["rss"] for r in runs])
            rows.append([variant, *(ms(v) for v in cells), f"{rss:.0f}", str(len(runs))])
    head = ["variant", "wall ms", "CPU ms", "render ms (in-process)", "peak MB", "runs"]
    return f"# what-if: {scenario}, file backend\n\n{table(head, rows)}\n"


def _profile(variant: str, stream: Path, env: dict[str, str], workdir: Path) -> str:
    """The CPU profile (all threads) of one render with ``variant`` applied."""
    from bench.profiling import THREADPROF, cprofile_report

    prof = workdir / "whatif.prof"
    _measure(variant, stream, env, workdir, [str(THREADPROF), str(prof)])
    return f"# what-if profile: {variant}\n\n{cprofile_report(prof, 20)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif", description=__doc__)
    parser.add_argument("--scenario", choices=["passthrough", "big-chart"], default="passthrough")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 MiB passthrough stream")
    parser.add_argument(
        "--profile", choices=VARIANTS, metavar="VARIANT", help="CPU profile of one variant"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.report)
    sys.stdout.write(whatif(args.scenario, args.repeat, args.quick, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
