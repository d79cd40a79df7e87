"""The portal's pages, one router per area."""

from services.portal.views import (
    auth,
    dashboard,
    difficulties,
    drafts,
    periods,
    report_form,
    report_page,
    unit_home,
    units,
)

ROUTERS = (
    auth.router,
    unit_home.router,
    report_form.router,
    drafts.router,
    report_page.router,
    dashboard.router,
    difficulties.router,
    periods.router,
    units.router,
)

__all__ = ["ROUTERS"]
