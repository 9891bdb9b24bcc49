"""Stage 6, report: the pages a reader opens (case reports, chapter, index, overview, validation page)
and the exports (workbook, PDF), rendered from executed notebooks and processed data."""
