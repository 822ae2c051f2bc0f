"""Build `medicines.csv` (our list: medicine -> real dm+d codes) from the published dm+d lists.

The generator prescribes by medicine name (see stratify/synth/health.py MEDICINES); each name takes
the codes of its published class list whose term starts with the medicine, so every code in the
synthetic prescribing feed is a real dm+d identifier that the class lists (statins, ...) also hold.
Medicines no published list covers keep one code each, listed in EXTRA with where it was checked.
Run `python -m stratify.codelists.medicines` after refreshing a published list.
"""

from __future__ import annotations

import polars as pl

from stratify.codelists import CODELIST_DIR, read_codes

# medicine -> (published list file, term prefixes that name the medicine's products)
FROM_LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "metformin": ("antidiabetic_drugs.csv", ("Metformin",)),
    "insulin": ("insulin.csv", ("",)),
    "amlodipine": ("calcium_channel_blockers.csv", ("Amlodipine",)),
    "ramipril": ("ace_inhibitors.csv", ("Ramipril",)),
    "atorvastatin": ("statins.csv", ("Atorvastatin", "Lipitor")),
    "bisoprolol": ("beta_blockers.csv", ("Bisoprolol",)),
    "furosemide": ("diuretics.csv", ("Furosemide",)),
    "apixaban": ("anticoagulants_doac.csv", ("Apixaban", "Eliquis")),
}

# dm+d VMPs for medicines with no published list here: SNOMED CT clinical drug identifiers that
# pass the Verhoeff check, each seen with this term in public NHS FHIR / dm+d examples.
EXTRA = pl.DataFrame(
    {
        "code": ["322236009", "323509004", "39113611000001102"],
        "term": [
            "Paracetamol 500mg tablets",
            "Amoxicillin 250mg capsules",
            "Salbutamol 100micrograms/dose inhaler CFC free",
        ],
        "medicine": ["paracetamol", "amoxicillin", "salbutamol"],
        "source": ["dm+d VMP", "dm+d VMP", "dm+d VMP"],
    }
)


def build() -> pl.DataFrame:
    frames = []
    for medicine, (file, prefixes) in FROM_LISTS.items():
        codes = read_codes(CODELIST_DIR / file)
        starts = pl.any_horizontal([pl.col("term").str.starts_with(p) for p in prefixes])
        frames.append(
            codes.filter(
                starts & ~pl.col("term").str.contains(" / ", literal=True)
            ).select(  # no combinations
                "code", "term", medicine=pl.lit(medicine), source=pl.lit(file)
            )
        )
    return pl.concat([*frames, EXTRA]).unique("code", keep="first", maintain_order=True)


if __name__ == "__main__":
    table = build()
    table.write_csv(CODELIST_DIR / "medicines.csv")
    print(table.group_by("medicine").len().sort("medicine"))
