"""Reports for the back office and finance, written in SQL against the live tables."""
