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
#
# Hvert afsnit herunder står for sig selv og bruger kun `resultat` fra første celle.

# %%
# %matplotlib inline
import polars as pl

import kmf
from kmf.display import vis
from kmf.figures import kommune_overview, report_figure, unit_row, waterfall

resultat = kmf.run(kmf.sample_dataset())
print(f"Budgetår {resultat.aar}, metode {resultat.metode}, {resultat.kommuner.height} kommuner")

# %% [markdown]
# ## Hele landet og regionerne
#
# Et resultat viser sig selv som tabel B1 for hele landet og regionerne: budget og prognose
# i mio. kr., ændringen og effekterne i pct. af budgettet (ØA-niveauet). Effekterne summer
# til ændringen.

# %%
resultat

# %% [markdown]
# Alle tabeller er polars DataFrames: `resultat.b1` … `resultat.b4`, eller
# `resultat.tabel("B1")` og `resultat.tabel(1)` … `resultat.tabel(6)`. `vis(...)` viser en
# tabel som i rapporten (decimalkomma, tusindtalspunktum, pct. med én decimal) uden at
# ændre dataene. Her tabel 1:

# %%
effekter = ["aendring_pct", "aktivitetseffekt_pct", "aldersgruppeeffekt_pct",
            "sundhedsomraadeeffekt_pct", "oevrige_pct"]  # fmt: skip
vis(resultat.tabel(1).select("navn", *effekter))

# %% [markdown]
# ## Tabel B1 for én region
#
# Kommunerne i Region Nordjylland, sorteret efter ændringen.

# %%
nordjylland = resultat.b1.filter(
    (pl.col("niveau") == "kommune") & (pl.col("region") == "Region Nordjylland")
).sort("aendring_pct", descending=True)
vis(nordjylland.select("navn", *effekter))

# %% [markdown]
# ## To kommuner side om side
#
# Aarhus og Aalborg: beløb i mio. kr. og i pct. af budgettet.

# %%
to_kommuner = resultat.b1.filter(pl.col("kode").is_in(["751", "851"])).select(
    "navn",
    (pl.col("kmf_budget_kr") / 1e6).alias("budget, mio. kr."),
    (pl.col("aendring_kr") / 1e6).alias("ændring, mio. kr."),
    *effekter,
)
vis(to_kommuner)

# %% [markdown]
# Hvor meget af forskellen skyldes aldersfordelingen? Tabel B2 viser, hvordan forbruget
# har flyttet sig mellem aldersgrupperne (pct.-point).

# %%
vis(resultat.tabel("B2").filter(pl.col("kode").is_in(["751", "851"])))

# %% [markdown]
# ## Figurer
#
# Figur 1 fra analysen (hele landet), Aalborgs vej fra budget til prognose, og alle
# kommuner sorteret efter ændringen.

# %%
report_figure(resultat, 1)

# %%
waterfall(unit_row(resultat, 851))

# %%
kommune_overview(resultat)

# %% [markdown]
# ## Videre i pandas og Excel
#
# `to_pandas()` giver en pandas DataFrame. Det kræver pandas, som ikke følger med kmf:
# installér det med `pip install "kmf[pandas]"`.

# %%
b1_pandas = resultat.b1.to_pandas()
b1_pandas.shape

# %% [markdown]
# `resultat.write(mappe)` skriver de samme filer som `kmf run`: tabellerne som CSV og
# Parquet, Excel-projektmappen, figurerne og `manifest.json`. Med `csv="dansk"` får
# CSV-filerne semikolon og decimalkomma, så de åbner direkte i dansk Excel.

# %%
from pathlib import Path  # noqa: E402

filer = resultat.write(Path("kmf-rapport-notebook"), force=True, csv="dansk")
[f.name for f in filer if f.suffix in (".xlsx", ".png")]
