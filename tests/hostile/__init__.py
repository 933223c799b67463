"""Hostile sites: every family of hostile input against the real auditor on loopback."""
