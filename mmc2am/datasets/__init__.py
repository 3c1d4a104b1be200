"""Datasets and transforms (registered into mmseg's registries)."""
