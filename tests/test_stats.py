import math

import numpy as np
import pytest

from maops_utils.core.stats import wilson_interval


def test_wilson_matches_the_textbook_value():
    # 8 of 20: Wilson 95% interval (0.2188, 0.6134), e.g. Newcombe (1998), table I style
    low, high = wilson_interval(8, 20)
    assert float(low) == pytest.approx(0.21879, abs=1e-4)
    assert float(high) == pytest.approx(0.61340, abs=1e-4)


def test_wilson_edges_stay_inside_zero_one():
    low, high = wilson_interval(np.array([0, 10]), np.array([10, 10]))
    assert low[0] == 0.0 and 0 < high[0] < 0.35
    assert high[1] == pytest.approx(1.0) and 0.65 < low[1] < 1


@pytest.mark.parametrize("k, n", [(1, 0), (3, 2), (-1, 5), (float("nan"), 5)])
def test_wilson_is_empty_where_not_a_proportion(k, n):
    low, high = wilson_interval(k, n)
    assert math.isnan(float(low)) and math.isnan(float(high))


@pytest.mark.parametrize("n", [1, 3, 7, 30, 1000])
def test_wilson_bounds_at_none_and_all_are_exactly_zero_and_one(n):
    low, high = wilson_interval(np.array([0, n]), np.array([n, n]))
    assert low[0] == 0.0 and high[1] == 1.0  # not 5.55e-17 or 0.9999999999999999
