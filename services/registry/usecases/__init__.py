"""The registry's use cases: each opens and commits its own unit of work through the store
(`context.store`), calls the pure rules (`domain`, `unit_rules`, `throttle`) and hashes
passwords before or after its transaction, never inside one. Routes only translate HTTP to
these calls and their results to the answers of `shared.contracts.api.registry`."""
