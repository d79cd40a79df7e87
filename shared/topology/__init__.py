"""The production topology as processes on one machine: `make run-cluster`.

Everything is rendered from the files production uses — `docker-compose.yml` (each
service's environment), `deploy/compose.env.example` (the secrets to generate),
`deploy/nats/nats.conf`, `deploy/nats/authorization.conf`, `deploy/postgres/`,
`deploy/gateway/nginx.conf` and `deploy/prometheus/` — with the substitutions one machine
needs (addresses, ports, folders), and supervised by the embedded launcher's `Supervisor`.
"""
