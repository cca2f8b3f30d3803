"""The reports store: the grading charts, as files locally and as GCS objects in production."""
