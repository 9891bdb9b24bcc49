"""Stage 5, run: execute notebooks with papermill (the in-process engine, forked children) and the
content-hash cache that decides what must run again."""
