"""Metrics (registered into mmseg's METRICS)."""
