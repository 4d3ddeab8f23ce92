"""The passthrough scenario's yardstick: PyYAML's C loader and dumper on the same stream.

``python bench/pyyaml_baseline.py FILE`` loads every document of FILE with ``CSafeLoader``,
dumps them all with ``CDumper`` and prints ``{"load": s, "dump": s}``: times taken inside the
process, so interpreter start and imports are not counted (which favours PyYAML).
"""

from __future__ import annotations

import json
import sys
import time

import yaml


def load_and_dump(text: str) -> tuple[float, float]:
    """Seconds to load all documents of ``text`` and to dump them again."""
    begin = time.perf_counter()
    docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    loaded = time.perf_counter()
    yaml.dump_all(docs, Dumper=yaml.CDumper)
    return loaded - begin, time.perf_counter() - loaded


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        text = handle.read()
    load, dump = load_and_dump(text)
    json.dump({"load": load, "dump": dump}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
