"""Run the registry: python -m services.registry; the one-time first administrator:
python -m services.registry create-admin (services/registry/cli.py)."""

import sys

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.service import serve

if __name__ == "__main__":
    if len(sys.argv) > 1:
        from services.registry.cli import main

        sys.exit(main(sys.argv[1:]))
    settings = RegistrySettings()
    serve(create_app(settings), settings)
