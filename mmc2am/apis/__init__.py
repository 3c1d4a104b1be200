"""High-level helpers of the tools (import them by module)."""
