"""Tests for auditor.signals: per-mechanism evidence records and their combination."""
