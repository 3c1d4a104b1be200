"""Visualisation of maps and boxes."""
