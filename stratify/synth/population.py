"""Practices, clusters, neighbourhoods and people: who is registered where, and who they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from stratify import nhs_number
from stratify.synth import reference as ref
from stratify.synth.config import SynthConfig

EPOCH = np.datetime64("1970-01-01", "D")
PEOPLE_PER_LSOA = 1_500


def day(d: date) -> int:
    """Days since 1970-01-01, the integer time axis of the simulation."""
    return int((np.datetime64(d, "D") - EPOCH).astype(int))


@dataclass
class Places:
    practices: pl.DataFrame  # practice_code, practice_name, cluster_code, cluster_name, list_size
    lsoas: pl.DataFrame  # lsoa_code, imd_decile, practice index it mostly serves
    postcodes: list[np.ndarray]  # per LSOA, its postcodes


def practice_sizes(n: int, low: int, high: int, rng: np.random.Generator) -> list[int]:
    """List sizes in [low, high] summing to n (a population below `low` is one small practice)."""
    sizes: list[int] = []
    remaining = n
    while remaining > high:
        size = min(int(rng.integers(low, high + 1)), remaining - low)
        sizes.append(size)
        remaining -= size
    sizes.append(remaining)
    return sizes


def make_places(cfg: SynthConfig, rng: np.random.Generator) -> Places:
    sizes = practice_sizes(cfg.patients, *cfg.practice_size, rng)
    n_practices = len(sizes)
    n_clusters = min(n_practices, max(2, -(-n_practices // cfg.practices_per_cluster)))
    cluster_of = np.sort(np.arange(n_practices) % n_clusters)
    practice_codes = [f"E85{600 + i:03d}" for i in range(n_practices)]
    cluster_codes = [f"U{44100 + c:05d}" for c in range(n_clusters)]
    practices = pl.DataFrame(
        {
            "practice_code": practice_codes,
            "practice_name": [
                f"{ref.SURNAMES[i % len(ref.SURNAMES)]} Medical Centre" for i in range(n_practices)
            ],
            "cluster_code": [cluster_codes[c] for c in cluster_of],
            "cluster_name": [f"Cluster {c + 1} PCN" for c in cluster_of],
            "list_size": sizes,
        }
    )
    # Each practice serves its own neighbourhoods, whose deprivation centres on the practice's.
    practice_centre = rng.uniform(2.5, 8.5, n_practices)
    lsoa_practice, lsoa_decile = [], []
    for p, size in enumerate(sizes):
        k = max(1, round(size / PEOPLE_PER_LSOA))
        lsoa_practice += [p] * k
        # Half the neighbourhoods follow the practice's own deprivation, half the whole of
        # England's (uniform deciles), so every quintile is well represented in every system.
        local = np.clip(np.rint(rng.normal(practice_centre[p], 2.6, k)), 1, 10).astype(int)
        national = rng.integers(1, 11, k)
        lsoa_decile += list(np.where(rng.random(k) < 0.5, local, national))
    n_lsoa = len(lsoa_practice)
    lsoas = pl.DataFrame(
        {
            "lsoa_code": [f"E01{4000 + i:06d}" for i in range(n_lsoa)],
            "imd_decile": lsoa_decile,
            "practice": lsoa_practice,
        }
    )
    postcodes = []
    for i in range(n_lsoa):
        outward = ref.OUTWARD_CODES[(i * 7) % len(ref.OUTWARD_CODES)]
        letters = rng.choice(list("ABDEFGHJLNPQRSTUWXY"), size=(20, 2))
        sector = (i // len(ref.OUTWARD_CODES)) % 10
        codes = sorted({f"{outward} {sector}{a}{b}" for a, b in letters})
        postcodes.append(np.array(codes))
    return Places(practices, lsoas, postcodes)


@dataclass
class People:
    """One row per person; arrays indexed by person id (0..n-1)."""

    practice: np.ndarray
    lsoa: np.ndarray
    deprivation_decile: np.ndarray
    dep: np.ndarray  # +1 most deprived, -1 least
    female: np.ndarray
    dob: np.ndarray  # day number
    ethnic: np.ndarray
    nhs: np.ndarray
    given: np.ndarray
    family: np.ndarray
    postcode: np.ndarray  # current address
    old_postcode: np.ndarray  # before a move ("" for non-movers)
    move_day: np.ndarray  # day of move (int max for non-movers)
    registered: np.ndarray  # day registered at the practice
    deregistered: np.ndarray  # day left (int max if still registered)
    frailty_z: np.ndarray
    unobserved: np.ndarray


NEVER = np.iinfo(np.int32).max


def make_people(cfg: SynthConfig, places: Places, rng: np.random.Generator) -> People:
    n = cfg.patients
    cut = day(cfg.data_cut)
    start = cut + 1 - round(365.25 * cfg.history_years)
    sizes = places.practices["list_size"].to_numpy()
    practice = np.repeat(np.arange(len(sizes)), sizes)
    lsoa_practice = places.lsoas["practice"].to_numpy()
    lsoa = np.empty(n, dtype=np.int64)
    for p in range(len(sizes)):
        own = np.flatnonzero(lsoa_practice == p)
        members = practice == p
        lsoa[members] = rng.choice(own, size=members.sum())
    decile = places.lsoas["imd_decile"].to_numpy()[lsoa]
    weights = ref.AGE_BAND_SHARE / ref.FIVE_YEAR_SURVIVAL
    band = rng.choice(len(weights), size=n, p=weights / weights.sum())
    age_years = band * 5 + rng.uniform(0, 5, n)
    age_years = np.where(band == len(weights) - 1, 90 + rng.exponential(3.5, n), age_years)
    female = rng.random(n) < ref.FEMALE_SHARE[band]
    dob = cut - np.floor(age_years * 365.25).astype(np.int64)
    ethnic = rng.choice(ref.ETHNIC_CODES, size=n, p=ref.ETHNIC_SHARE / ref.ETHNIC_SHARE.sum())
    given = np.where(
        female, rng.choice(ref.FEMALE_NAMES, size=n), rng.choice(ref.MALE_NAMES, size=n)
    )
    family = rng.choice(ref.SURNAMES, size=n)
    postcode = _postcodes(places, lsoa, rng)
    movers = rng.random(n) < cfg.quality.mover_share
    old_postcode = np.where(movers, _postcodes(places, rng.permutation(lsoa), rng), "")
    move_day = np.where(movers, rng.integers(start, cut, n), NEVER)
    # Families and twins draw from their own stream, so the rest of the population stays as it was.
    frng = np.random.default_rng([cfg.seed, 7])
    family = double_barrel(family, cfg.quality.identity.double_barrelled, frng)
    home = (lsoa, postcode, old_postcode, move_day)
    family, *home = share_home(practice, cfg.quality.identity.households, frng, family, *home)
    dob, given, female, family, *home = twin(
        practice, cfg.quality.identity.twins, frng, dob, given, female, family, *home
    )
    lsoa, postcode, old_postcode, move_day = home
    decile = places.lsoas["imd_decile"].to_numpy()[lsoa]
    # Registration: most before the window; some join during it; babies at birth.
    joined = rng.random(n) < 0.2
    registered = np.where(joined, rng.integers(start, cut, n), start - rng.integers(1, 30 * 365, n))
    registered = np.maximum(registered, dob)
    leaves = rng.random(n) < 0.02 * cfg.history_years
    deregistered = np.where(leaves, rng.integers(start, cut + 365, n), NEVER)
    deregistered = np.where(deregistered <= registered, NEVER, deregistered)
    return People(
        practice=practice,
        lsoa=lsoa,
        deprivation_decile=decile,
        dep=(5.5 - decile) / 4.5,
        female=female,
        dob=dob,
        ethnic=ethnic,
        nhs=nhs_number.test_range_numbers(n, rng),
        given=given,
        family=family,
        postcode=postcode,
        old_postcode=old_postcode,
        move_day=move_day,
        registered=registered,
        deregistered=deregistered,
        frailty_z=rng.normal(0, 1, n),
        unobserved=rng.normal(0, 1, n),
    )


def double_barrel(family: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A share of people get a two-part surname, hyphenated ("Smith-Jones") or not ("Lloyd Webber")."""
    n = len(family)
    rows = np.flatnonzero(rng.random(n) < share)
    second = rng.choice(ref.SURNAMES, size=len(rows))
    joiner = np.where(rng.random(len(rows)) < 0.5, "-", " ")
    out = family.astype(object).copy()
    for i, row in enumerate(rows):
        if second[i] != family[row]:
            out[row] = f"{family[row]}{joiner[i]}{second[i]}"
    return out.astype(str)


def _pairs(practice: np.ndarray, share: float, size: np.ndarray, rng) -> list[np.ndarray]:
    """Groups of people in the same practice, `size` members each, covering about `share` of all."""
    groups = []
    for p in np.unique(practice):
        members = rng.permutation(np.flatnonzero(practice == p))
        members = members[: rng.binomial(len(members), share)]
        at = 0
        for k in size[: len(members)]:
            if at + k > len(members):
                break
            groups.append(members[at : at + k])
            at += k
    return groups


def share_home(
    practice: np.ndarray, share: float, rng: np.random.Generator, family: np.ndarray, *home
) -> tuple[np.ndarray, ...]:
    """Households of 2-4 people at one address with one surname (and one move, if they moved)."""
    sizes = rng.integers(2, 5, len(practice))
    out = [family.copy(), *(h.copy() for h in home)]
    for group in _pairs(practice, share, sizes, rng):
        for column in out:
            column[group[1:]] = column[group[0]]
    return tuple(out)


def twin(
    practice: np.ndarray, share: float, rng: np.random.Generator, dob, given, female, family, *home
) -> tuple[np.ndarray, ...]:
    """Pairs of twins: one birth date, surname and address, two different given names."""
    out = [dob.copy(), given.astype(object).copy(), female.copy(), family.copy()]
    out += [h.copy() for h in home]
    same_sex = rng.random(len(practice)) < 0.6
    pairs = _pairs(practice, share, np.full(len(practice), 2), rng)
    for i, (a, b) in enumerate(pairs):
        out[2][b] = out[2][a] if same_sex[i] else not out[2][a]
        names = ref.FEMALE_NAMES if out[2][b] else ref.MALE_NAMES
        choice = names[int(rng.integers(0, len(names)))]
        while choice == out[1][a]:
            choice = names[int(rng.integers(0, len(names)))]
        out[1][b] = choice
        out[0][b] = out[0][a]
        for column in out[3:]:
            column[b] = column[a]
    out[1] = out[1].astype(str)
    return tuple(out)


def _postcodes(places: Places, lsoa: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One postcode per person from their neighbourhood, vectorised over neighbourhoods."""
    counts = np.array([len(p) for p in places.postcodes])
    flat = np.concatenate(places.postcodes)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = offsets[lsoa] + (rng.random(len(lsoa)) * counts[lsoa]).astype(np.int64)
    return flat[pick]
