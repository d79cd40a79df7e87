"""Messaging infrastructure shared by every service: outbox, relay, inbox, consumers, broker."""
