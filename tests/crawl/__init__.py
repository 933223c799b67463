"""Tests for auditor.crawl: frontier, fetcher, robots.txt, discovery, politeness."""
