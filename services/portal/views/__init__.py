"""The portal's pages, one router per area."""

from services.portal.views import (
    accounts,
    admin,
    auth,
    dashboard,
    difficulties,
    drafts,
    periods,
    report_form,
    report_page,
    town_draft,
    unit_home,
    units,
)

ROUTERS = (
    auth.router,
    accounts.router,
    unit_home.router,
    report_form.router,
    drafts.router,
    report_page.router,
    dashboard.router,
    difficulties.router,
    periods.router,
    # Before units: /don-vi/nhap is a page, not a unit code.
    admin.router,
    units.router,
    town_draft.router,
)

__all__ = ["ROUTERS"]
