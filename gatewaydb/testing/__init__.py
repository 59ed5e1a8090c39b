"""Test support for services built on gatewaydb (installed with ``gatewaydb[testing]``)."""
