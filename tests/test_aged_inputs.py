"""training/gan/aged_inputs.py and train --age-prob: old prints' inputs in training, the colours kept."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.gan.aged_inputs import aged_lightness  # noqa: E402
from training.gan.labtorch import uint8_batch_to_lab  # noqa: E402


def batch(n=6, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(128, 50, (n, size, size, 3)), 0, 255).astype(np.uint8)


def test_picked_photos_get_an_aged_lightness_and_the_others_keep_theirs():
    rgb = batch()
    L = uint8_batch_to_lab(rgb)[:, :1]
    every = aged_lightness(rgb, L, np.random.default_rng(1), 1.0, "print")
    assert every.shape == L.shape and every is not L
    assert all(not torch.allclose(every[k], L[k], atol=0.5) for k in range(len(rgb)))   # every photo aged
    some = aged_lightness(rgb, L, np.random.default_rng(2), 0.5, "scan")
    changed = [not torch.allclose(some[k], L[k]) for k in range(len(rgb))]
    assert 0 < sum(changed) < len(rgb)
    assert torch.equal(L, uint8_batch_to_lab(rgb)[:, :1])   # the input tensor itself untouched
    # deterministic for a seed
    assert torch.equal(some, aged_lightness(rgb, L, np.random.default_rng(2), 0.5, "scan"))


def test_no_ageing_draws_nothing_so_a_run_without_it_is_as_before():
    rng = np.random.default_rng(3)
    L = uint8_batch_to_lab(batch())[:, :1]
    assert aged_lightness(batch(), L, rng, 0.0, "print") is L
    assert rng.random() == np.random.default_rng(3).random()


def test_training_with_aged_inputs_runs_and_bad_shares_are_refused(tmp_path, capsys):
    from test_gan import TINY_TRAIN, _synthetic_photos
    from training.gan import train
    data = tmp_path / "photos"
    _synthetic_photos(data / "groupA")
    common = ["--data", str(data), *TINY_TRAIN, "--val-every", "100", "--seed", "0", "--steps", "2"]
    assert train.main(common + ["--out", str(tmp_path / "a" / "ck.pt"), "--age-prob", "0.5",
                                "--age-recipe", "scan"]) == 0
    assert train.main(common + ["--out", str(tmp_path / "b" / "ck.pt"), "--age-prob", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().out
