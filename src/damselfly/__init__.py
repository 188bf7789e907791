"""damselfly: a Redis-compatible in-memory data server built around SETNX and locks."""

__version__ = "0.1.0"
# The Redis release whose behaviour we match; clients switch features on it (INFO redis_version).
REDIS_VERSION = "7.0.15"
