"""The only module that turns YAML/JSON text into Python values and back.

Reading follows what AVP runs on (avp-behaviour.md §1.4): go-yaml v2's YAML 1.1 typing of plain
scalars, then sigs.k8s.io/yaml's conversion to JSON values (integral floats become ints,
non-string keys become strings, ``.inf``/``.nan`` are errors). Writing (§1.6, decision D4)
keeps key order and quotes every string that go-yaml v2, PyYAML or a YAML 1.2 reader would
otherwise take for something else.
"""

from __future__ import annotations

from avp_py.yamlcodec._dump import dump_yaml
from avp_py.yamlcodec._json_load import load_json
from avp_py.yamlcodec._model import DEFAULT_LIMITS, Limits, YamlSyntaxError
from avp_py.yamlcodec._quoting import needs_quotes
from avp_py.yamlcodec._yaml_load import check_syntax, load_yaml

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "check_syntax",
    "YamlSyntaxError",
    "dump_yaml",
    "load_json",
    "load_yaml",
    "needs_quotes",
]
