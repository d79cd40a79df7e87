"""Writes the AsyncAPI document of every service: `python -m shared.asyncapi docs/asyncapi`."""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path

from faststream.specification import AsyncAPI

SERVICES = {
    "registry": "RegistrySettings",
    "intake": "IntakeSettings",
    "reminders": "RemindersSettings",
    "consolidation": "ConsolidationSettings",
}


def generate(out_dir: Path) -> list[Path]:
    """Build each service's app (nothing connects) and write its AsyncAPI JSON."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, settings_class in SERVICES.items():
            settings_module = importlib.import_module(f"services.{name}.settings")
            settings = getattr(settings_module, settings_class)(data_dir=Path(scratch))
            module = importlib.import_module(f"services.{name}.app")
            app = module.create_app(settings)
            broker = app.state.runtime.bus.broker
            spec = AsyncAPI(
                broker,
                title=f"danvan {name}",
                version="1.0",
                description=f"Sự kiện của dịch vụ {name} (NATS JetStream)",
            )
            path = out_dir / f"{name}.json"
            # Sorted and indented: stable across runs, readable in a diff.
            document = json.loads(spec.to_specification().to_json())
            text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi")
    for written_path in generate(target):
        sys.stdout.write(f"{written_path}\n")
