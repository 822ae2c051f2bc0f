"""Synthesise a whole integrated care system: feeds for the pipeline, ground truth kept apart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from stratify import codelists
from stratify.contracts import FEEDS
from stratify.dates import add_years
from stratify.synth import defects, events, health
from stratify.synth import identity as identity_noise
from stratify.synth import population as pop
from stratify.synth import reference as ref
from stratify.synth.config import SynthConfig
from stratify.synth.writer import FeedWriter

SHAPES = {
    "gp_events": defects.FeedShape(
        "event_date",
        code="snomed_code",
        unknown_codes=defects.UNKNOWN_SNOMED,
        wrong_codes=defects.WRONG_SNOMED,
        hba1c=True,
    ),
    "gp_medications": defects.FeedShape("issue_date", code="dmd_code", wrong_codes=defects.RXNORM),
    "apc_spells": defects.FeedShape(
        "admission_date",
        end="discharge_date",
        code="primary_diagnosis",
        unknown_codes=defects.UNKNOWN_ICD10,
        invalid_codes=defects.INVALID_ICD10,
        dotted=True,
    ),
    "ecds_attendances": defects.FeedShape("arrival_date", optional="arrival_mode"),
    "op_appointments": defects.FeedShape("appointment_date", optional="treatment_function_code"),
    "community_contacts": defects.FeedShape("contact_date", identity=True),
    "mh_contacts": defects.FeedShape("contact_date", identity=True),
    "social_care_services": defects.FeedShape(
        "start_date",
        identity=True,
        dates=("date_of_birth", "start_date", "end_date"),
    ),
}
PATIENTS_SHAPE = defects.FeedShape("registration_date")

DATE_COLUMNS = {
    "patients": ["date_of_birth", "registration_date", "deregistration_date", "date_of_death"],
    "gp_events": ["event_date"],
    "gp_medications": ["issue_date"],
    "apc_spells": ["admission_date", "discharge_date"],
    "ecds_attendances": ["arrival_date"],
    "op_appointments": ["appointment_date"],
    "community_contacts": ["date_of_birth", "contact_date"],
    "mh_contacts": ["date_of_birth", "contact_date"],
    "social_care_services": ["date_of_birth", "start_date", "end_date"],
}

Progress = Callable[[str], None]


def _slice(obj, lo: int, hi: int):
    """A copy of a dataclass of per-person arrays, restricted to people lo..hi-1."""
    return replace(obj, **{f.name: getattr(obj, f.name)[lo:hi] for f in fields(obj)})


def index_days(cfg: SynthConfig) -> np.ndarray:
    """Index dates (period starts) from the start of history to the end of the future year."""
    cut = cfg.data_cut
    starts = [add_years(cut, -(cfg.history_years - k)) for k in range(cfg.history_years + 2)]
    return np.array([pop.day(d) + 1 for d in starts], dtype=np.int64)


def _to_dates(df: pl.DataFrame, feed: str) -> pl.DataFrame:
    """Day numbers as dates; columns already written as text (a dd/mm/yyyy feed) stay text."""
    cols = [c for c in DATE_COLUMNS[feed] if c in df.columns and df[c].dtype.is_integer()]
    return df.with_columns([pl.col(c).cast(pl.Int32).cast(pl.Date) for c in cols])


def synthesise(
    cfg: SynthConfig, out: Path, fmt: str = "parquet", progress: Progress | None = None
) -> dict:
    """Write DIR/feeds, DIR/reference and DIR/ground_truth; return the summary."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    out = Path(out)
    for sub in ("feeds", "reference", "ground_truth", "ground_truth/future"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([cfg.seed, 0])
    places = pop.make_places(cfg, rng)
    people = pop.make_people(cfg, places, rng)
    cut = pop.day(cfg.data_cut)
    idx_days = index_days(cfg)
    age_at_cut = (cut - people.dob) / events.YEAR
    onsets = health.draw_onsets(age_at_cut, people.dep, people.frailty_z, rng)
    med_starts = health.draw_medicines(onsets, rng)
    age_first = (idx_days[0] - people.dob) / events.YEAR
    years = health.simulate_years(
        len(idx_days) - 1, age_first, onsets, med_starts, people.dep, people.unobserved, rng
    )
    quality = rng.uniform(0.75, 1.12, places.practices.height)
    say(
        f"simulated {cfg.patients:,} people over {len(years)} years in {time.perf_counter() - t0:.1f}s"
    )

    writers = {feed: FeedWriter(out / "feeds", feed, fmt) for feed in FEEDS}
    future = {
        feed: FeedWriter(out / "ground_truth" / "future", feed, "parquet") for feed in FEEDS[1:]
    }
    links = FeedWriter(out / "ground_truth", "links", "parquet")
    defect_writer = FeedWriter(out / "ground_truth", "defects", "parquet")
    death_days = np.full(cfg.patients, pop.NEVER, dtype=np.int64)
    record_ids = dict.fromkeys(FEEDS, 0)
    future_ids = dict.fromkeys(FEEDS, 0)

    for chunk_no, lo in enumerate(range(0, cfg.patients, cfg.chunk_size)):
        hi = min(cfg.patients, lo + cfg.chunk_size)
        crng = np.random.default_rng([cfg.seed, 1, chunk_no])
        chunk = events.Chunk(
            people=_slice(people, lo, hi),
            years=[_slice(y, lo, hi) for y in years],
            onsets=onsets[lo:hi],
            med_starts=med_starts[lo:hi],
            index_days=idx_days,
            practice_quality=quality,
            ids=np.arange(lo, hi),
        )
        w = events.windows(chunk)
        death_days[lo:hi] = w.death
        tables = _chunk_tables(chunk, w, crng)
        for feed, table in tables.items():
            id_col = ID_COLUMNS[feed]
            date_col = SHAPES[feed].date
            # Split at the cut before numbering records: identifiers numbered across the cut
            # would leave gaps that tell a model who has events afterwards.
            later = table.filter(pl.col(date_col) > cut)
            now = table.filter(pl.col(date_col) <= cut)
            for part, counter in ((now, record_ids), (later, future_ids)):
                part.insert_column(0, pl.Series(id_col, np.arange(part.height) + counter[feed] + 1))
                counter[feed] += part.height
            future[feed].write(
                _to_dates(later.drop(identity_noise.OLD_ADDRESS, strict=False), feed)
            )
            now = _close_at_cut(now, feed, cut)
            now, planted = defects.plant(now, feed, SHAPES[feed], cfg.quality, cut, crng)
            row0 = writers[feed].rows
            links.write(
                pl.DataFrame(
                    {
                        "feed": feed,
                        "row_number": np.arange(now.height) + row0 + 1,
                        "record_key": now[id_col],
                        "person_id": now["person"],
                    }
                )
            )
            defect_writer.write(
                planted.with_columns(row_number=pl.col("row") + row0 + 1).drop("row")
            )
            writers[feed].write(_to_dates(now.drop("person"), feed))
        say(
            f"chunk {chunk_no + 1}: people {lo + 1:,}-{hi:,} written ({time.perf_counter() - t0:.1f}s)"
        )

    patients = _patients(people, places, death_days, cut)
    patients, planted = defects.plant(
        patients,
        "patients",
        PATIENTS_SHAPE,
        replace(cfg.quality, future_date=0.0),
        cut,
        np.random.default_rng([cfg.seed, 2]),
    )
    links.write(
        pl.DataFrame(
            {
                "feed": "patients",
                "row_number": np.arange(patients.height) + 1,
                "record_key": patients["person"] + 1,
                "person_id": patients["person"],
            }
        )
    )
    defect_writer.write(planted.with_columns(row_number=pl.col("row") + 1).drop("row"))
    writers["patients"].write(_to_dates(patients.drop("person"), "patients"))
    for w_ in [*writers.values(), *future.values(), links, defect_writer]:
        w_.close()

    _write_reference(out / "reference", places, fmt)
    truth = _risk_truth(people, years, idx_days, death_days)
    truth.write_parquet(out / "ground_truth" / "risk.parquet")
    _condition_truth(people, onsets).write_parquet(out / "ground_truth" / "conditions.parquet")
    pl.DataFrame({"person_id": np.arange(cfg.patients), "date_of_death": death_days}).filter(
        (pl.col("date_of_death") > cut) & (pl.col("date_of_death") < pop.NEVER)
    ).with_columns(pl.col("date_of_death").cast(pl.Int32).cast(pl.Date)).write_parquet(
        out / "ground_truth" / "future" / "deaths.parquet"
    )
    summary = _summary(cfg, fmt, out, writers, truth, idx_days, years, people, places)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    manifest = {
        "generator": "stratify synth",
        "data_cut": cfg.data_cut.isoformat(),
        "format": fmt,
        "codelists_version": codelists.manifest()["version"],
        "feeds": {feed: writers[feed].path.name for feed in FEEDS},
        "rows": summary["rows"],  # rows per feed file: build refuses a file with fewer (truncated)
    }
    (out / "feeds" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    say(f"done in {summary['seconds']}s")
    return summary


def _chunk_tables(
    chunk: events.Chunk, w: events.Windows, rng: np.random.Generator
) -> dict[str, pl.DataFrame]:
    """Every event feed for one chunk in its published columns (dates still as day numbers),
    plus `person`, the global person id that only ground truth keeps."""
    p = chunk.people
    spells = events.apc_spells(chunk, w, rng)
    stop = np.minimum(np.minimum(p.deregistered, w.death + 1), chunk.index_days[-1])
    followup = events.discharge_followup(spells, chunk.practice_quality, p.practice, stop, rng)
    gp = pl.concat([events.gp_events(chunk, w, rng), events.rapid_practice_followup(followup)])
    meds = events.gp_medications(chunk, w, rng)  # dm+d code and term drawn per medicine
    practice_codes = np.array([f"E85{600 + i:03d}" for i in range(len(chunk.practice_quality))])
    nhs = np.array([str(x) for x in p.nhs])

    def base(df: pl.DataFrame, providers: np.ndarray) -> pl.DataFrame:
        idx = df["person"].to_numpy()
        return df.with_columns(
            nhs_number=pl.Series(nhs[idx], dtype=pl.String),
            practice_code=pl.Series(practice_codes[p.practice[idx]], dtype=pl.String),
            provider_code=pl.Series(
                events.provider_of(p.practice[idx], providers), dtype=pl.String
            ),
            person=pl.Series(chunk.ids[idx]),
        ).sort(["person", df.columns[1]], maintain_order=True)

    def identity(df: pl.DataFrame, providers: np.ndarray) -> pl.DataFrame:
        idx = df["person"].to_numpy()
        days = df[df.columns[1]].to_numpy()
        postcode = np.where(days < p.move_day[idx], p.old_postcode[idx], p.postcode[idx])
        postcode = np.where(postcode == "", p.postcode[idx], postcode)
        return base(
            df.with_columns(
                old_address=pl.Series(postcode != p.postcode[idx]),
                given_name=pl.Series(p.given[idx], dtype=pl.String),
                family_name=pl.Series(p.family[idx], dtype=pl.String),
                date_of_birth=pl.Series(p.dob[idx]),
                sex=pl.Series(np.where(p.female[idx], "F", "M"), dtype=pl.String),
                postcode=pl.Series(postcode, dtype=pl.String),
            ),
            providers,
        )

    person_ids = ["nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode"]
    person_ids.append(identity_noise.OLD_ADDRESS)  # for ground truth; dropped before writing
    died = pl.col("died")
    tables = {
        "gp_events": base(gp, ref.ACUTE_TRUSTS).select(
            "person",
            "nhs_number",
            "practice_code",
            event_date="day",
            snomed_code="code",
            value="value",
            unit="unit",
        ),
        "gp_medications": base(meds, ref.ACUTE_TRUSTS).select(
            "person",
            "nhs_number",
            "practice_code",
            issue_date="day",
            dmd_code="code",
            description="term",
            issue_type="issue_type",
        ),
        "apc_spells": base(spells, ref.ACUTE_TRUSTS).select(
            "person",
            "nhs_number",
            "provider_code",
            admission_date="admission",
            discharge_date="discharge",
            admission_method="method",
            primary_diagnosis="diagnosis",
            discharge_method=pl.when(died).then(pl.lit("4")).otherwise(pl.lit("1")),
        ),
        "ecds_attendances": base(
            events.ecds_attendances(chunk, w, spells, rng), ref.ACUTE_TRUSTS
        ).select(
            "person",
            "nhs_number",
            "provider_code",
            arrival_date="day",
            arrival_mode="mode",
            discharge_destination="destination",
        ),
        "op_appointments": base(events.op_appointments(chunk, w, rng), ref.ACUTE_TRUSTS).select(
            "person",
            "nhs_number",
            "provider_code",
            appointment_date="day",
            treatment_function_code="specialty",
            attendance_status="status",
        ),
        "community_contacts": identity(
            events.community_contacts(chunk, w, followup, rng), ref.COMMUNITY_PROVIDERS
        ).select(
            "person",
            *person_ids,
            "provider_code",
            contact_date="day",
            service="service",
            contact_type="contact_type",
        ),
        "mh_contacts": identity(
            events.mh_contacts(chunk, w, rng), ref.MENTAL_HEALTH_PROVIDERS
        ).select(
            "person",
            *person_ids,
            "provider_code",
            contact_date="day",
            service="service",
            contact_type="contact_type",
        ),
        "social_care_services": identity(
            events.social_care_services(chunk, w, spells, rng), ref.LOCAL_AUTHORITIES
        ).select(
            "person",
            *person_ids,
            local_authority_code="provider_code",
            service_type="service",
            start_date="start",
            end_date="end",
        ),
    }
    return tables


def _close_at_cut(df: pl.DataFrame, feed: str, cut: int) -> pl.DataFrame:
    """What the extract knows at the data cut: spells still open have no discharge yet."""
    if feed == "apc_spells":
        still_in = pl.col("discharge_date") > cut
        return df.with_columns(
            discharge_date=pl.when(still_in).then(None).otherwise(pl.col("discharge_date")),
            discharge_method=pl.when(still_in).then(None).otherwise(pl.col("discharge_method")),
        )
    if feed == "social_care_services":
        return df.with_columns(
            end_date=pl.when(pl.col("end_date") > cut).then(None).otherwise(pl.col("end_date"))
        )
    return df


ID_COLUMNS = {
    "gp_events": "event_id",
    "gp_medications": "issue_id",
    "apc_spells": "spell_id",
    "ecds_attendances": "attendance_id",
    "op_appointments": "appointment_id",
    "community_contacts": "contact_id",
    "mh_contacts": "contact_id",
    "social_care_services": "episode_id",
}


def _patients(
    people: pop.People, places: pop.Places, death_days: np.ndarray, cut: int
) -> pl.DataFrame:
    practice_codes = places.practices["practice_code"].to_numpy()
    lsoa_codes = places.lsoas["lsoa_code"].to_numpy()
    n = len(people.dob)
    dead = (death_days <= cut) & (death_days < people.deregistered)
    return pl.DataFrame(
        {
            "nhs_number": [str(x) for x in people.nhs],
            "given_name": people.given,
            "family_name": people.family,
            "date_of_birth": people.dob,
            "sex": np.where(people.female, "F", "M"),
            "ethnic_category": people.ethnic,
            "postcode": people.postcode,
            "lsoa_code": lsoa_codes[people.lsoa],
            "practice_code": practice_codes[people.practice],
            "registration_date": people.registered,
            "deregistration_date": np.where(people.deregistered <= cut, people.deregistered, -1),
            "date_of_death": np.where(dead, death_days, -1),
            "person": np.arange(n),
        }
    ).with_columns(
        [
            pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c)
            for c in ("deregistration_date", "date_of_death")
        ]
    )


def _write_reference(folder: Path, places: pop.Places, fmt: str) -> None:
    practices = places.practices.select(
        "practice_code", "practice_name", "cluster_code", "cluster_name"
    )
    lsoas = places.lsoas.select("lsoa_code", "imd_decile")
    for name, df in (("practices", practices), ("deprivation", lsoas)):
        if fmt == "csv":
            df.write_csv(folder / f"{name}.csv")
        else:
            df.write_parquet(folder / f"{name}.parquet")


def _risk_truth(
    people: pop.People, years: list[health.YearState], idx_days: np.ndarray, death_days: np.ndarray
) -> pl.DataFrame:
    """Per person and index date: the true probability and whether an emergency admission came."""
    frames = []
    for k, ys in enumerate(years):
        day = idx_days[k]
        eligible = (
            (people.dob < day)
            & (people.registered <= day)
            & (people.deregistered > day)
            & (death_days >= day)
        )
        ids = np.flatnonzero(eligible)
        frames.append(
            pl.DataFrame(
                {
                    "person_id": ids,
                    "index_date": np.full(len(ids), day, dtype=np.int64),
                    "age": np.floor(ys.age[ids]).astype(np.int64),
                    "true_probability": ys.probability[ids],
                    "emergency_admission": ys.admitted[ids],
                    "died_within_12_months": (death_days[ids] < idx_days[k + 1]),
                    "efi_deficits": ys.efi[ids].astype(np.int64),
                }
            )
        )
    return pl.concat(frames).with_columns(pl.col("index_date").cast(pl.Int32).cast(pl.Date))


def _condition_truth(people: pop.People, onsets: np.ndarray) -> pl.DataFrame:
    """Per person and long-term condition: the day it began (the GP codes it on that day)."""
    frames = []
    for j, item in enumerate(health.ITEMS[:17]):
        ids = np.flatnonzero(np.isfinite(onsets[:, j]))
        day = people.dob[ids] + (onsets[ids, j] * events.YEAR).astype(np.int64)
        frames.append(pl.DataFrame({"person_id": ids, "condition": item.name, "onset_date": day}))
    return pl.concat(frames).with_columns(pl.col("onset_date").cast(pl.Int32).cast(pl.Date))


def _summary(cfg, fmt, out, writers, truth, idx_days, years, people, places) -> dict:
    defects_df = pl.read_parquet(out / "ground_truth" / "defects.parquet")
    rows = {feed: writers[feed].rows for feed in FEEDS}
    rates = (
        defects_df.group_by("feed", "defect")
        .len()
        .with_columns(
            rate=pl.col("len") / pl.col("feed").replace_strict(rows, return_dtype=pl.Float64)
        )
        .sort("feed", "defect")
    )
    at = {}
    for label, k in (("at_training_index", len(years) - 2), ("at_data_cut", len(years) - 1)):
        d = pl.Series([idx_days[k]]).cast(pl.Int32).cast(pl.Date)[0]
        t = truth.filter(pl.col("index_date") == d)
        y = t["emergency_admission"].to_numpy()
        older = t.filter(pl.col("age") >= 65)
        at[label] = {
            "index_date": d.isoformat(),
            "people": t.height,
            "emergency_admission_rate": round(float(y.mean()), 4),
            "emergency_admission_rate_65_plus": round(
                float(older["emergency_admission"].mean()), 4
            ),
            "oracle_auroc": round(float(roc_auc_score(y, t["true_probability"].to_numpy())), 4),
            "mortality_12_months": round(float(t["died_within_12_months"].mean()), 4),
        }
    return {
        "patients": cfg.patients,
        "seed": cfg.seed,
        "format": fmt,
        "data_cut": cfg.data_cut.isoformat(),
        "history_years": cfg.history_years,
        "practices": places.practices.height,
        "clusters": places.practices["cluster_code"].n_unique(),
        "rows": rows,
        "defects": [
            {
                "feed": r["feed"],
                "defect": r["defect"],
                "rows": r["len"],
                "rate": round(r["rate"], 5),
            }
            for r in rates.iter_rows(named=True)
        ],
        "configured_rates": {
            "nhs_missing": cfg.quality.nhs_missing,
            "nhs_invalid": cfg.quality.nhs_invalid,
            "duplicate_row": cfg.quality.duplicate_row,
            "future_date": cfg.quality.future_date,
            "discharge_before_admission": cfg.quality.discharge_before_admission,
            "unknown_code": cfg.quality.unknown_code,
            "name_typo": cfg.quality.name_typo,
            "date_of_birth_error": cfg.quality.dob_error,
            "postcode_typo": cfg.quality.postcode_typo,
            "identity": asdict(cfg.quality.identity),
            "nhs_spaces": cfg.quality.nhs_spaces,
            "uk_date": {cfg.quality.uk_date_feed: cfg.quality.uk_date},
            "hba1c_percent": cfg.quality.hba1c_percent,
            "wrong_code_system": cfg.quality.wrong_code_system,
            "invalid_diagnosis": cfg.quality.invalid_diagnosis,
            "icd10_dotted": cfg.quality.icd10_dotted,
            "missing_optional": cfg.quality.missing_optional,
        },
        **at,
    }
