"""The numeric settings: each one's name, default and allowed range, in one place.

:func:`~avp_py.settings.load.load_settings` reads them with :meth:`Count.read` and
:meth:`Seconds.read`, and :class:`~avp_py.settings.load.Settings` takes its defaults from here.
Defaults that a lower layer also needs when it is used as a library (the codec's safety limits,
the cache's lifetimes) are defined there and only referred to here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from avp_py import yamlcodec
from avp_py.backends import cache
from avp_py.errors import ConfigError

YEAR = 86_400 * 365


@dataclass(frozen=True, slots=True)
class Count:
    """An integer setting."""

    key: str
    default: int
    low: int
    high: int

    def read(self, values: Mapping[str, str]) -> int:
        """The value of :attr:`key` in ``values``, or the default; ConfigError when invalid."""
        raw = values.get(self.key, "").strip()
        if not raw:
            return self.default
        try:
            number = int(raw, 10)
        except ValueError:
            raise ConfigError(f"{self.key} must be an integer, not {raw!r}") from None
        if not self.low <= number <= self.high:
            raise ConfigError(
                f"{self.key} must be between {self.low} and {self.high}, not {number}"
            )
        return number


@dataclass(frozen=True, slots=True)
class Seconds:
    """A duration in seconds."""

    key: str
    default: float
    low: float = 1e-3
    high: float = 3600

    def read(self, values: Mapping[str, str]) -> float:
        """The value of :attr:`key` in ``values``, or the default; ConfigError when invalid."""
        raw = values.get(self.key, "").strip()
        if not raw:
            return self.default
        try:
            seconds = float(raw)
        except ValueError:
            raise ConfigError(f"{self.key} must be a number of seconds, not {raw!r}") from None
        if not self.low <= seconds <= self.high:
            raise ConfigError(
                f"{self.key} must be between {self.low:g} and {self.high:g} seconds, not {raw}"
            )
        return seconds


MAX_CONCURRENCY = Count("AVP_MAX_CONCURRENCY", 16, 1, 256)
TIMEOUT = Seconds("AVP_TIMEOUT_SECONDS", 45.0)
MAX_INPUT_BYTES = Count("AVP_MAX_INPUT_BYTES", 100 << 20, 1, 1 << 40)
MAX_NODES = Count("AVP_MAX_NODES", yamlcodec.DEFAULT_LIMITS.max_nodes, 10, 1 << 31)
# Issue 11 item 3. The default follows the input's limit (twice AVP_MAX_INPUT_BYTES, whatever
# that is set to): load_settings reads it with output_bytes_default.
MAX_OUTPUT_BYTES = Count("AVP_MAX_OUTPUT_BYTES", 2 * MAX_INPUT_BYTES.default, 1, 1 << 41)
MAX_DEPTH = Count("AVP_MAX_DEPTH", yamlcodec.DEFAULT_LIMITS.max_depth, 4, 10_000)
CACHE_TTL = Seconds("AVP_CACHE_TTL_SECONDS", cache.DEFAULT_TTL_SECONDS, 0.0, YEAR)
CACHE_PINNED_TTL = Seconds(
    "AVP_CACHE_PINNED_TTL_SECONDS", cache.DEFAULT_PINNED_TTL_SECONDS, 0.0, YEAR
)
CACHE_MAX_ENTRIES = Count("AVP_CACHE_MAX_ENTRIES", cache.DEFAULT_MAX_ENTRIES, 1, 10_000_000)
# avp-py watch (issue 14; avp_py.settings.watch). Argo CD renders every Application that still
# exists at least when its manifest cache expires (reposerver.repo.cache.expiration, 24 h by
# default): a record twice that old belongs to an Application this pod no longer renders.
WATCH_INTERVAL = Seconds("AVP_WATCH_INTERVAL_SECONDS", 120.0, 1.0, 86_400.0)
WATCH_RECORD_MAX_AGE = Seconds("AVP_WATCH_RECORD_MAX_AGE_SECONDS", 172_800.0, 60.0, YEAR)
# Per refresh request: Argo CD answers only once the refresh (the render) is done.
WATCH_ARGOCD_TIMEOUT = Seconds("AVP_WATCH_ARGOCD_TIMEOUT_SECONDS", 60.0, 0.1, 3600.0)
