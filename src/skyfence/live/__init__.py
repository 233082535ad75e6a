"""Live feeds: connections that survive drops, incremental decoders, hourly Parquet output, ``ingest``."""
