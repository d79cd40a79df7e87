"""Event contracts: one module per producing service, subjects next to their contracts."""
