"""Run the portal: python -m services.portal."""

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from shared.service import serve

if __name__ == "__main__":
    settings = PortalSettings()
    serve(create_app(settings), settings)
