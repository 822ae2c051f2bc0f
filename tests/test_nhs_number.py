import numpy as np

from stratify import nhs_number


def test_a_valid_test_range_number_passes_and_a_changed_digit_does_not():
    assert nhs_number.is_valid(["9990000018"]).tolist() == [True]
    assert nhs_number.is_valid(["9990000017", "999000001", "99900000AB", None]).tolist() == [
        False,
        False,
        False,
        False,
    ]


def test_the_999_test_range_holds_exactly_the_declared_number_of_valid_numbers():
    stems = 999_000_000 + np.arange(1_000_000, dtype=np.int64)
    assert (nhs_number.check_digit(stems) != 10).sum() == nhs_number.TEST_RANGE_CAPACITY


def test_test_range_numbers_are_distinct_valid_and_start_999():
    numbers = nhs_number.test_range_numbers(20_000, np.random.default_rng(0))
    text = [str(n) for n in numbers]
    assert len(set(text)) == 20_000
    assert all(t.startswith("999") for t in text)
    assert nhs_number.is_valid(text).all()


def test_corrupted_numbers_always_fail_the_check_and_keep_the_prefix():
    numbers = nhs_number.test_range_numbers(5_000, np.random.default_rng(1))
    broken = nhs_number.corrupt(numbers, np.random.default_rng(2))
    text = [str(n) for n in broken]
    assert not nhs_number.is_valid(text).any()
    assert all(t.startswith("999") for t in text)
