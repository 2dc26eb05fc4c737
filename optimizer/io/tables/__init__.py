"""Suppliers, offers and demand from CSV files and Excel sheets (DESIGN §3.1).

A scenario's `tables:` names up to three tables, each a CSV file or a sheet of
an `.xlsx` workbook (`forecast.xlsx#Demand`), relative to the file that names
it. One job per module:

- `kinds`: what a table holds (its key columns, the kind of column of each field);
- `cells`: a cell as a value of its column's kind, or why it is not one;
- `grid`, `csv_file`, `xlsx`: a table file as a grid of raw cells (a workbook's
  sheets streamed with expat);
- `header`, `wide`, `long`, `reader`: the grids read into the scenario's data
  (`read_tables`), strict at the cell;
- `sources`: where each value came from, so that an error names its cell;
- `export`: the other way round, a scenario as tables (`sourcing export-tables`).
"""
