"""The landing zone: raw source payloads as files (a local folder, or a GCS bucket in
production), with the manifests that say what each scrape landed."""
