"""Metric classes."""
