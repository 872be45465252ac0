"""CDRs: read Asterisk's Master.csv, keep them in a Parquet store, analyse them with DuckDB.

- `ingest.ingest(paths, store)`: new rows of Master.csv files (any layout, gzip) into the store;
- `store`: the store's layout (Hive partitions by UTC date) and DuckDB views over it;
- `rating.rate(call, plan)`: the price of one call (pluggable);
- `dataset.build_dataset(repo, store, ...)`: everything the report site shows, as JSON;
- `simulate`: realistic CDRs for a repository, written as cdr_csv writes them.
"""
