"""SNOMED CT identifiers (SCTIDs, also used by dm+d): the Verhoeff check digit and the partition.

The staging checks run the same rules in SQL (sql/staging/macros.sql); this module is for the
generator, which must write codes that pass (or, on purpose, fail) them, and for tests.
"""

from __future__ import annotations

# The dihedral group D5 multiplication table and the permutation p1, composed with itself for
# the positions 2..7 (p[i][d] = p[i-1][p[1][d]]).
D5 = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
P = [tuple(range(10)), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)]
for _ in range(6):
    P.append(tuple(P[-1][P[1][d]] for d in range(10)))
INVERSE = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
CONCEPT_PARTITIONS = ("00", "10")


def verhoeff_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    c = 0
    for i, digit in enumerate(reversed(number)):
        c = D5[c][P[i % 8][int(digit)]]
    return c == 0


def with_check_digit(stem: str) -> str:
    """The stem with its Verhoeff check digit appended."""
    c = 0
    for i, digit in enumerate(reversed(stem)):
        c = D5[c][P[(i + 1) % 8][int(digit)]]
    return stem + str(INVERSE[c])


def is_concept_id(code: str) -> bool:
    """Whether a code is a valid SCTID of a concept (what snomed_ct and dmd columns hold)."""
    return (
        code.isdigit()
        and 6 <= len(code) <= 18
        and code[0] != "0"
        and code[-3:-1] in CONCEPT_PARTITIONS
        and (code[-3:-1] == "00" or len(code) >= 11)
        and verhoeff_valid(code)
    )
