"""Crawling: frontier, fetcher, robots.txt, discovery, politeness."""
