"""Stage 3, per case: select a municipality and its reference group, tabulate Tabel 1-11, plot Figuur 1-5
and the maps, and the HTML the case notebook displays. Reads ``data/processed`` only, through
:mod:`pipeline.processed`."""
