"""Suite-wide pytest configuration."""

pytest_plugins = ["tests.kvserver.fixtures"]
