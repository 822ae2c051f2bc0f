"""Build `medicines.csv` (our list: medicine -> real dm+d codes) from the published dm+d lists.

The generator prescribes by medicine name (see stratify/synth/health.py MEDICINES); each name takes
the codes of its published class list whose term starts with the medicine, so every code in the
synthetic prescribing feed is a real dm+d identifier that the class lists (statins, ...) also hold.
Medicines no published list covers take a few codes from the GM SDE single-drug sets (FROM_GM_SDE)
or checked identifiers from public NHS code (EXTRA); co-beneldopa has no real code yet
(medicines_placeholder.csv).
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

# Medicines with no published list in /work/shared/codelists: dm+d codes (the VMP and common AMPs
# of the usual product) read from the Greater Manchester SDE single-drug code sets, the repository
# the published statins set comes from (UoM-Data-Science-Platforms/gm-sde,
# shared/clinical-code-sets/medications/<drug>/1/<drug>.snomed.txt at the commit given).
GM_SDE = "UoM-Data-Science-Platforms/gm-sde"
FROM_GM_SDE: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "aspirin": ("09ba79b12191bcb6f65804b46c06135e74964c94", (
        ("319773006", "Aspirin 75mg dispersible tablets"),
        ("765111000001108", "Aspirin 75mg dispersible tablets (A A H Pharmaceuticals Ltd)"),
        ("916711000001109", "Aspirin 75mg dispersible tablets (Actavis UK Ltd)"),
        ("595211000001103", "Aspirin 75mg dispersible tablets (Alliance Healthcare (Distribution) Ltd)"),
        ("319781007", "Aspirin 75mg gastro-resistant tablets"),
    )),
    "sertraline": ("74abf4ba6ee0efc67c73c796485948df2893e3f7", (
        ("39704111000001102", "Sertraline 50mg tablets"),
        ("1040511000001102", "Sertraline 50mg tablets"),
        ("5412911000001109", "Sertraline 50mg tablets"),
        ("39704011000001103", "Sertraline 100mg tablets"),
        ("1209011000001102", "Sertraline 100mg tablets"),
    )),
    "donepezil": ("31d4761721f3e55700062d01aebee73c9da87285", (
        ("42035611000001109", "Donepezil 5mg tablets"),
        ("20191011000001109", "Donepezil 5mg tablets (A A H Pharmaceuticals Ltd)"),
        ("20345711000001109", "Donepezil 5mg tablets (Krka UK Ltd)"),
        ("42035511000001105", "Donepezil 10mg tablets"),
        ("20914011000001108", "Donepezil 10mg tablets (Zentiva Pharma UK Ltd)"),
    )),
    "levothyroxine": ("f989cf499751cb47a1a5358ec69bf86ba30ffde5", (
        ("374295007", "Levothyroxine sodium 50microgram tablets"),
        ("374296008", "Levothyroxine sodium 100microgram tablets"),
        ("39698611000001106", "Levothyroxine sodium 50microgram tablets"),
        ("83011000001108", "Levothyroxine sodium 50microgram tablets (Teva UK Ltd)"),
        ("10436511000001101", "Levothyroxine sodium 50microgram tablets (Arrow Generics Ltd)"),
    )),
    "olanzapine": ("96645b5b3cab4a9ea1c7e6b4031d7fabd3c481b8", (
        ("42275511000001103", "Olanzapine 10mg tablets"),
        ("19574011000001108", "Olanzapine 10mg tablets (A A H Pharmaceuticals Ltd)"),
        ("19564611000001107", "Olanzapine 10mg tablets (Alliance Healthcare (Distribution) Ltd)"),
        ("19561511000001106", "Olanzapine 10mg tablets (Teva UK Ltd)"),
        ("486611000001101", "Zyprexa 10mg tablets (Neon Healthcare Ltd)"),
    )),
    "omeprazole": ("4dabef95c03c5f77045557dd62f2b71dcfb842fc", (
        ("42356411000001102", "Omeprazole 20mg gastro-resistant capsules"),
        ("42356211000001101", "Omeprazole 10mg gastro-resistant capsules"),
        ("42356611000001104", "Omeprazole 40mg gastro-resistant capsules"),
        ("42356511000001103", "Omeprazole 20mg gastro-resistant tablets"),
        ("923011000001105", "Losec 20mg gastro-resistant capsules"),
    )),
    "alendronic_acid": ("ee258c894c12acc54f02a80bdeda39e98d624192", (
        ("39731311000001108", "Alendronic acid 70mg tablets"),
        ("1273311000001106", "Alendronic acid 70mg tablets"),
        ("9221911000001101", "Alendronic acid 70mg tablets (A A H Pharmaceuticals Ltd)"),
        ("9299611000001102", "Alendronic acid 70mg tablets (Alliance Healthcare (Distribution) Ltd)"),
        ("9188811000001108", "Alendronic acid 70mg tablets (Teva UK Ltd)"),
    )),
    "beclometasone": ("0590d0f18ec5957113398f3bfb1cb542a5648051", (
        ("42292311000001106", "Beclometasone 100micrograms/dose inhaler"),
        ("3178411000001103", "Beclometasone 100micrograms/dose inhaler (Viatris UK Healthcare Ltd)"),
        ("11400511000001100", "Beclometasone 100micrograms/dose inhaler (Almus Pharmaceuticals Ltd)"),
        ("7379111000001102", "Beclometasone 100micrograms/dose inhaler (Kent Pharma (UK) Ltd)"),
        ("35907911000001107", "Beclometasone 100micrograms/dose breath actuated inhaler CFC free"),
    )),
}  # fmt: skip

# dm+d identifiers for the rest, each seen with this term in public NHS code (FHIR / dm+d examples,
# EMIS-derived code sets, prescribing queries) and each passing the Verhoeff check: the VMP where it
# was found, else an AMP (Braltus is a tiotropium brand) or a VMPP (zopiclone packs of 28).
EXTRA_FROM = "public NHS code"
EXTRA = pl.DataFrame(
    [
        ("322236009", "Paracetamol 500mg tablets", "paracetamol", "dm+d VMP"),
        ("323509004", "Amoxicillin 250mg capsules", "amoxicillin", "dm+d VMP"),
        ("39113611000001102", "Salbutamol 100micrograms/dose inhaler CFC free", "salbutamol",
         "dm+d VMP"),
        ("33594911000001100", "Braltus 10microgram inhalation powder capsules", "tiotropium",
         "dm+d AMP"),
        ("1313311000001106", "Zopiclone 3.75mg tablets 28 tablet", "zopiclone", "dm+d VMPP"),
        ("1166611000001103", "Zopiclone 7.5mg tablets 28 tablet", "zopiclone", "dm+d VMPP"),
        ("41984711000001104", "Ferrous fumarate 210mg tablets", "ferrous_fumarate", "dm+d VMP"),
        ("41878511000001100", "Letrozole 2.5mg tablets", "letrozole", "dm+d VMP"),
        ("41953111000001108", "Nitrofurantoin 50mg capsules", "nitrofurantoin", "dm+d VMP"),
        ("41953211000001102", "Nitrofurantoin 50mg tablets", "nitrofurantoin", "dm+d VMP"),
    ],
    schema=["code", "term", "medicine", "source"],
    orient="row",
)  # fmt: skip


def _gm_sde() -> pl.DataFrame:
    rows = [
        (code, term, medicine, f"{GM_SDE}@{commit[:8]}:medications/{medicine.replace('_', '-')}")
        for medicine, (commit, codes) in FROM_GM_SDE.items()
        for code, term in codes
    ]
    return pl.DataFrame(rows, schema=["code", "term", "medicine", "source"], orient="row")


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
    return pl.concat([*frames, _gm_sde(), EXTRA]).unique("code", keep="first", maintain_order=True)


if __name__ == "__main__":
    table = build()
    table.write_csv(CODELIST_DIR / "medicines.csv")
    print(table.group_by("medicine").len().sort("medicine"))
