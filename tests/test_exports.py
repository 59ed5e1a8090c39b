"""The public surface: what `import gatewaydb` offers is deliberate, sorted and complete."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module", ["gatewaydb", "gatewaydb.core", "gatewaydb.core.errors", "gatewaydb.core.observe",
               "gatewaydb.gateway.models", "gatewaydb.otel", "gatewaydb.prometheus"])
def test_all_is_sorted_and_every_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names)
    for name in names:
        assert hasattr(mod, name), name


def test_every_error_is_a_gatewaydb_error() -> None:
    from gatewaydb import errors

    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, errors.GatewayDBError), name
