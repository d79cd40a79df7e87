"""Image build check: the installed package imports and carries the files the services read.

Run it from outside the source tree (the script's own folder comes first on sys.path), so
`import services` finds the installed package, not the sources next to it.
"""

import importlib
import sys
from pathlib import Path

# Importing every entry point fails fast on a runtime dependency missing from the image.
ENTRY_POINTS = (
    "services.registry.app",
    "services.intake.app",
    "services.reminders.app",
    "services.consolidation.app",
    "services.consolidation.rebuild",
    "services.portal.app",
)

# Files the services open at run time next to their code (migrations, forms, templates,
# styles, seed data). A pattern matching nothing means pyproject's package-data missed it.
REQUIRED = (
    "services/registry/migrations/env.py",
    "services/registry/migrations/versions/*.py",
    "services/intake/migrations/env.py",
    "services/intake/migrations/versions/*.py",
    "services/reminders/migrations/env.py",
    "services/reminders/migrations/versions/*.py",
    "services/consolidation/migrations/env.py",
    "services/consolidation/migrations/versions/*.py",
    "services/*/migrations/script.py.mako",
    "shared/forms/definitions/*/*.yaml",
    "services/portal/templates/*.html",
    "services/portal/static/*.css",
    "services/reminders/templates/*.j2",
    "services/registry/seed/hong_linh.yaml",
    "services/registry/seed/hong_linh_2025.yaml",
)


def missing(root: Path) -> list[str]:
    """The required patterns with no file under `root` (the folder holding the packages)."""
    return [pattern for pattern in REQUIRED if not any(root.glob(pattern))]


def installed_root() -> Path:
    """The site-packages folder the `services` package was imported from."""
    import services

    return Path(services.__file__).resolve().parent.parent


def main() -> int:
    """Exit 1, naming what is absent, unless every entry point and data file is installed."""
    for module in ENTRY_POINTS:
        importlib.import_module(module)
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else installed_root()
    absent = missing(root)
    for pattern in absent:
        print(f"missing from the installed package: {pattern}", file=sys.stderr)
    if not absent:
        print(f"package data complete under {root}")
    return 1 if absent else 0


if __name__ == "__main__":
    sys.exit(main())
