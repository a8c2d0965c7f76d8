"""The computation on cells: which cuts a forecast uses (timeline), the forecast and budget
cells (forecast), the effects (decompose), the tables B1–B4 and tabel 1–6 (tables), a
kommune's contributions (kommune_tables) and the track's accuracy (accuracy)."""
