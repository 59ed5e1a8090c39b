"""Examples of services built on gatewaydb (see examples/README.md)."""
