"""Assertion helpers shared by the per-family tests."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

import pytest
import redis


def error_is(text: str) -> AbstractContextManager[Any]:
    """Expect an error reply whose text (after the prefix redis-py strips) is exactly `text`."""
    return pytest.raises(redis.ResponseError, match="^" + re.escape(text) + "$")


def error_starts(text: str) -> AbstractContextManager[Any]:
    return pytest.raises(redis.ResponseError, match="^" + re.escape(text))


def error_has(text: str) -> AbstractContextManager[Any]:
    return pytest.raises(redis.ResponseError, match=re.escape(text))
