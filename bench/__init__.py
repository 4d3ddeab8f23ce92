"""avp-py's benchmark suite: ``python -m bench [--repeat N] [--only SCENARIO] [--quick]``.

Generates its inputs (``inputs``), starts the project's Key Vault test server with injected
latency, renders with the real ``avp-py generate -`` in a new process per render (``measure``,
``launch``), counts AVP's round trips for the same inputs (``avp_model``), measures the limit
model's yardsticks (``limits``), runs the scenarios (``scenarios``, ``suite``) and prints
Markdown tables with the targets of issue 5 (``report``). docs/benchmarks.md has the results.
"""
