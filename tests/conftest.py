"""Suite-wide pytest configuration."""

import os

from hypothesis import settings

from tests.isolation import NO_SERVER

pytest_plugins = ["tests.kvserver.fixtures"]

# In CI the property tests are deterministic (a failing main must be reproducible); locally
# they draw new examples every run, which is how they find new bugs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Children that copy this process's environment render in-process too (tests/isolation.py).
os.environ.update(NO_SERVER)
