"""Stand-in for prometheus-nats-exporter (whose image cannot be pulled on this machine):
`python -m shared.topology.nats_exporter --port 17777 http://127.0.0.1:18222`.

It reads the same monitoring endpoints as the compose exporters (`-varz -healthz`) and
exports the series under prometheus-nats-exporter's names (0.17): every numeric field of
`/varz` as `gnatsd_varz_<field>{server_id}`, and `gnatsd_healthz_status{server_id, value}`,
0 when the node answers `ok` and 1 otherwise. Only those two endpoints: the alert rules and
the dashboard use nothing else from NATS. `server_id` is the monitored URL, as the exporter
sets it when no id is given.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read() or b"{}"
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"error": body.decode(errors="replace")}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return 0, {"error": str(error)}


class NatsCollector(Collector):
    """Reads /healthz and /varz of one node on every scrape."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status, health = _get(f"{self.url}/healthz")
        healthz = GaugeMetricFamily(
            "gnatsd_healthz_status", "status", labels=["server_id", "value"]
        )
        ok = status == 200 and health.get("status") == "ok"
        value = "ok" if ok else str(health.get("error") or health.get("status") or "error")
        healthz.add_metric([self.url, value], 0.0 if ok else 1.0)
        yield healthz
        if status == 0:
            return  # the node does not answer at all: no /varz either
        status, varz = _get(f"{self.url}/varz")
        if status != 200:
            return
        for field, number in sorted(varz.items()):
            if isinstance(number, bool) or not isinstance(number, int | float):
                continue
            gauge = GaugeMetricFamily(f"gnatsd_varz_{field}", field, labels=["server_id"])
            gauge.add_metric([self.url], float(number))
            yield gauge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--addr", default="127.0.0.1")
    parser.add_argument("url", help="the node's monitoring URL, e.g. http://127.0.0.1:18222")
    args = parser.parse_args(argv)
    REGISTRY.register(NatsCollector(args.url))
    start_http_server(args.port, addr=args.addr)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
