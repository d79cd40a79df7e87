"""Run consolidation: `python -m services.consolidation` serves; `... rebuild` replays."""

import sys

from services.consolidation.settings import ConsolidationSettings
from shared.logs import configure_logging
from shared.service import serve


def main(argv: list[str]) -> int:
    """Serve the API, or rebuild the projections from the streams."""
    settings = ConsolidationSettings()
    if argv == ["rebuild"]:
        from services.consolidation.rebuild import run_rebuild

        configure_logging(
            settings.log_level, service=settings.service_name, json_format=settings.log_json
        )
        report = run_rebuild(settings)
        sys.stdout.write(
            f"Đã dựng lại dữ liệu tổng hợp: {report.applied} sự kiện áp dụng, "
            f"{report.duplicates} trùng lặp, {report.skipped} bỏ qua.\n"
        )
        return 0
    if argv:
        sys.stderr.write("Cách dùng: python -m services.consolidation [rebuild]\n")
        return 2
    from services.consolidation.app import create_app

    serve(create_app(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
