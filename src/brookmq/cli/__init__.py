"""Command line: ``brookmq start``."""
