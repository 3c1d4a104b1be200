"""Plain functions on maps (polarity, boxes, cues, labels) shared by models,
hooks, metrics and tools. Import them from their modules, e.g.
``from mmc2am.functional.polarity import border_centre_sums``."""
