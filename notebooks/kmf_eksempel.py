# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # KMF 2018: hvorfor afviger prognosen fra budgettet?
#
# Et gennemregnet eksempel med `kmf` på det medfølgende **syntetiske** datasæt for
# budgetår 2018 (alle 98 kommuner, kalibreret til ministeriets offentliggjorte tabeller —
# tallene for den enkelte kommune er ikke rigtige). Byt `kmf.sample_dataset()` ud med stien
# til jeres egne data.

# %%
# %matplotlib inline
import polars as pl

import kmf
from kmf.figures import kommune_overview, report_figure, unit_row, waterfall

resultat = kmf.run(kmf.sample_dataset())
print(f"Budgetår {resultat.aar}, metode: {resultat.metode}, {resultat.kommuner.height} kommuner")

# %% [markdown]
# ## Hele landet og regionerne (tabel 1)
#
# Alle tal er i pct. af budgettet (ØA-niveauet); effekterne summer til ændringen.

# %%
effekter = ["aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
            "sundhedsomraadeeffekt_pct", "oevrige_pct"]  # fmt: skip
resultat.tabel(1).select("navn", *effekter)

# %% [markdown]
# ## Tabel B1 for én region
#
# Kommunerne i Region Nordjylland, sorteret efter ændringen.

# %%
nordjylland = resultat.b1.filter(
    (pl.col("niveau") == "kommune") & (pl.col("region") == "Region Nordjylland")
).sort("aendring_pct", descending=True)
nordjylland.select("navn", *effekter)

# %% [markdown]
# ## To kommuner side om side
#
# Aarhus og Aalborg: beløb i mio. kr. og i pct. af budgettet.

# %%
to_kommuner = resultat.b1.filter(pl.col("kode").is_in(["751", "851"])).select(
    "navn",
    (pl.col("kmf_budget_kr") / 1e6).round(1).alias("budget_mio_kr"),
    (pl.col("aendring_kr") / 1e6).round(1).alias("aendring_mio_kr"),
    *[pl.col(c).round(1) for c in effekter],
)
to_kommuner

# %% [markdown]
# Hvor meget af forskellen skyldes aldersfordelingen? Tabel B2 viser, hvordan forbruget
# har flyttet sig mellem aldersgrupperne (pct.-point).

# %%
resultat.b2.filter(pl.col("kode").is_in(["751", "851"]))

# %% [markdown]
# ## Figurer
#
# Figur 1 fra analysen (hele landet) og Aalborgs vej fra budget til prognose.

# %%
report_figure(resultat, 1)

# %%
waterfall(unit_row(resultat, 851))

# %%
kommune_overview(resultat)

# %% [markdown]
# ## Videre i pandas og Excel
#
# Tabellerne er polars DataFrames; `to_pandas()` giver en pandas DataFrame, og
# `resultat.write(mappe)` skriver de samme filer som `kmf run`, med Excel-projektmappen.

# %%
b1_pandas = resultat.b1.to_pandas()
b1_pandas.head()

# %%
from pathlib import Path  # noqa: E402

filer = resultat.write(Path("kmf-rapport-notebook"), force=True)
[f.name for f in filer if f.suffix in (".xlsx", ".png")]
