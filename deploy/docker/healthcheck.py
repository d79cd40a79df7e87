"""Container health probe: exit 0 when the service's /healthz answers 200."""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    """Probe /healthz on the port this container's service listens on."""
    # One image runs every service, each on its own DANVAN_HTTP_PORT, so the probe
    # reads the port at run time instead of baking one into the HEALTHCHECK line.
    port = os.environ.get("DANVAN_HTTP_PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
