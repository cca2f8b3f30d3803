"""The model store: LightGBM boosters and their metadata, in a local folder or a GCS bucket,
with the IO manager that moves the points models between it and the assets."""
