"""Run the reminders service: python -m services.reminders."""

from services.reminders.app import create_app
from services.reminders.settings import RemindersSettings
from shared.service import serve

if __name__ == "__main__":
    settings = RemindersSettings()
    serve(create_app(settings), settings)
