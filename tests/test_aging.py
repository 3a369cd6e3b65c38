"""Photos aged like old prints (training.aging): seeded, each recipe's chances and ranges as it says."""
import numpy as np
import pytest

from training.aging import AGEING, RECIPES, age


def photo(h=32, w=40):
    g = np.linspace(0, 1, h * w, dtype=np.float32).reshape(h, w)
    return np.repeat(g[..., None], 3, -1)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_ageing_is_seeded_and_draws_each_transform_at_its_chance_within_its_ranges(recipe):
    x = photo()
    a, steps = age(x, np.random.default_rng(7), recipe_name=recipe)
    b, again = age(x, np.random.default_rng(7), recipe_name=recipe)
    assert np.array_equal(a, b) and steps == again
    assert a.shape == x.shape and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2])   # still gray
    counts = dict.fromkeys(AGEING, 0)
    n = 600
    for seed in range(n):
        for name, params in age(x, np.random.default_rng(seed), recipe_name=recipe)[1]:
            counts[name] += 1
            for key, value in params.items():
                lo, hi = RECIPES[recipe][name][1][key]
                assert lo <= value <= hi, (name, key, value)
    for name in AGEING:
        chance = RECIPES[recipe][name][0]
        assert abs(counts[name] / n - chance) <= 4 * np.sqrt(chance * (1 - chance) / n), (name, counts[name])


def test_the_recipes_differ_and_an_unknown_one_is_refused():
    x = photo()
    faded = [age(x, np.random.default_rng(s), only="fade", recipe_name=r)[0].max() for s in range(20)
             for r in ("print", "scan")]
    assert max(faded[0::2]) <= 0.96 + 1e-6 and min(faded[1::2]) >= 0.92 - 1e-6   # "scan" keeps the whites
    with pytest.raises(ValueError, match="unknown ageing recipe 'sepia'"):
        age(x, np.random.default_rng(0), recipe_name="sepia")
