"""Loading transforms."""
