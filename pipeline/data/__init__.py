"""Stage 1, inputs: CBS tables as published (fetch, the raw snapshot, periods, mergers) and the curated
reference inputs in ``data/external`` (the printed values of the report). Nothing after ``pipeline.build``
reads the raw snapshot: later stages read ``data/processed`` through :mod:`pipeline.processed`."""
