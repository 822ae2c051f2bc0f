"""NHS number Modulus 11 check digits, vectorised, and the 999 test range used for synthetic data."""

from __future__ import annotations

import numpy as np

WEIGHTS = np.arange(10, 1, -1)  # 10..2 applied to the first nine digits
TEST_RANGE_PREFIX = 999
TEST_RANGE_CAPACITY = 909_091  # valid numbers among 999000000x..999999999x (checked by a test)


def check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit for 9-digit integers; 10 means the base cannot be an NHS number."""
    digits = (first_nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    remainder = (digits * WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def is_valid(numbers: list[str | None]) -> np.ndarray:
    """True where the string is ten digits with a correct Modulus 11 check digit."""
    out = np.zeros(len(numbers), dtype=bool)
    ok_idx = [i for i, n in enumerate(numbers) if n is not None and len(n) == 10 and n.isdigit()]
    if ok_idx:
        values = np.array([int(numbers[i]) for i in ok_idx], dtype=np.int64)
        expected = check_digit(values // 10)
        out[ok_idx] = (expected == values % 10) & (expected != 10)
    return out


def test_range_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct valid NHS numbers (int64) from the 999 test range, in random order."""
    if n > TEST_RANGE_CAPACITY:
        raise ValueError(
            f"the 999 test range holds only {TEST_RANGE_CAPACITY:,} valid NHS numbers; "
            f"asked for {n:,}"
        )
    bases = TEST_RANGE_PREFIX * 1_000_000 + np.arange(1_000_000, dtype=np.int64)
    checks = check_digit(bases)
    valid = bases[checks != 10] * 10 + checks[checks != 10]
    return rng.choice(valid, size=n, replace=False)


def corrupt(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change one digit so the check digit no longer matches (a keying error)."""
    numbers = numbers.copy()
    pending = np.ones(len(numbers), dtype=bool)
    while pending.any():  # re-draw the few whose changed digit happens to stay valid
        idx = np.flatnonzero(pending)
        digit_value = 10 ** rng.integers(0, 7, size=len(idx))  # never touch the 999 prefix
        current = (numbers[idx] // digit_value) % 10
        replacement = (current + rng.integers(1, 10, size=len(idx))) % 10
        candidate = numbers[idx] + (replacement - current) * digit_value
        invalid = check_digit(candidate // 10) != candidate % 10
        numbers[idx[invalid]] = candidate[invalid]
        pending[idx[invalid]] = False
    return numbers
