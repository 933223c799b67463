"""Tests for auditor.testing: the scenario site server."""
