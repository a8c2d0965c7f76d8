# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# Hvert afsnit herunder står for sig selv og bruger kun `data` og `resultat` fra første
# celle: data læses én gang med `kmf.load` og gives derefter til hver beregning.

# %%
# %matplotlib inline
import polars as pl

import kmf
from kmf.display import vis
from kmf.figures import (
    accuracy_figure,
    history_figure,
    kommune_overview,
    kommune_page,
    report_figure,
    track_figure,
    unit_row,
    waterfall,
)

data = kmf.load(kmf.sample_dataset())
resultat = kmf.run(data)
print(repr(resultat))

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
# ## Prognosen gennem året
#
# Eksemplets aktivitetsdata har en opgørelsesdato pr. opgørelse, som kommunernes egne data
# ved budgetopfølgningen: en ny foreløbig opgørelse hver måned. `resultat` ovenfor er
# prognosen pr. den seneste dato, der har alle fire opgørelser (`kmf.run(data,
# dato="2018-06-10")` giver en anden dato). `kmf.spor` laver prognosen for hver dato på én
# gang. Her Aalborgs ændring og effekter pr. dato:

# %%
spor = kmf.spor(data, aar=resultat.aar)
print(spor)
vis(spor.spor.filter(pl.col("kode") == "851").select("opgoerelsesdato", *effekter))

# %%
track_figure(spor)

# %% [markdown]
# ### Træfsikkerhed
#
# Eksemplet har også den endelige opgørelse for 2018, så hver prognose kan holdes op mod
# den faktiske afregning: afvigelsen for hele landet og, over kommunerne, den
# gennemsnitlige, mediane og største afvigelse og andelen af kommuner inden for 2 pct.

# %%
vis(spor.traefsikkerhed)

# %%
accuracy_figure(spor)

# %% [markdown]
# ## Historik
#
# `kmf.historik` giver B1 for hvert budgetår, data rækker til, hvert år på sin seneste
# opgørelsesdato og med sit eget budget. Her hele landet:

# %%
historik = kmf.historik(data)
print(historik)
vis(historik.historik.filter(pl.col("niveau") == "land").select("aar", *effekter))

# %%
history_figure(historik)

# %% [markdown]
# ## En kommunes egen rapport
#
# `kmf.kommune` samler én kommunes tal: teksten til et notat, B1 for kommunen, regionen,
# hele landet og de 10 kommuner med det nærmeste budget, bidragene pr. aldersgruppe og
# celle, og, når prognosesporet og historikken gives med, hvordan prognosen har flyttet sig
# og hvor langt den lå fra den endelige afregning. `rapport.write(mappe)` skriver de samme
# filer som `kmf kommune`.

# %%
rapport = kmf.kommune(resultat, 851, prognosespor=spor, historik=historik)
rapport

# %%
vis(rapport.overblik.select("navn", "rang", *effekter))

# %%
kommune_page(rapport)

# %% [markdown]
# ## Videre i pandas og Excel
#
# `to_pandas()` giver en pandas DataFrame. Det kræver pandas, som ikke følger med kmf:
# installér det med `pip install "kmf[pandas]"`.

# %%
b1_pandas = resultat.b1.to_pandas()
b1_pandas.shape

# %% [markdown]
# `resultat.write(mappe)` skriver de samme filer som `kmf beregn`: tabellerne som CSV og
# Parquet, Excel-projektmappen, figurerne og `manifest.json`. Med `csv="dansk"` får
# CSV-filerne semikolon og decimalkomma, så de åbner direkte i dansk Excel.

# %%
from pathlib import Path  # noqa: E402

filer = resultat.write(Path("kmf-rapport-notebook"), force=True, csv="dansk")
[f.name for f in filer if f.suffix in (".xlsx", ".png")]
