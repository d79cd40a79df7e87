"""Consolidation's use cases: each checks the caller's permission, opens its own unit of work
through the store, and calls the pure domain. The projector (`projector.py`) applies events;
these serve the HTTP routes."""
