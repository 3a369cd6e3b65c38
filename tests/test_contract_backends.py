"""Contract suite: every registered backend, built-in or third-party, honours the same contract."""
import numpy as np
import pytest

from colorcore import ColorizeRequest, load_registry, run_backend
from colorcore.errors import InvalidRequest

REGISTRY = load_registry()
BACKENDS = sorted(REGISTRY.backends)


def backend_or_skip(name):
    backend = REGISTRY.get(name)
    reason = backend.unavailable_reason()
    if reason:
        pytest.skip(f"{name} unavailable here: {reason}")
    return backend


def request_for(backend, shape, mode=None, seed=5):
    rng = np.random.default_rng(0)
    h, w = shape
    image = np.repeat(rng.uniform(0.1, 0.9, (h, w, 1)), 3, axis=2).astype(np.float32)
    mode = mode or backend.modes[0]
    scribbles = mask = None
    if mode == "scribble" or backend.needs_scribbles:
        scribbles = np.zeros((h, w, 4), np.float32)
        scribbles[h // 3, :, :] = [0.9, 0.2, 0.1, 1.0]
        scribbles[-1, -1] = [0.1, 0.3, 0.9, 0.5]
    if mode == "partial":
        mask = np.zeros((h, w), np.float32)
        mask[:, : w // 2] = 1.0
        mask[:, w // 2] = 0.5
    reference = rng.uniform(0, 1, (h + 3, w + 5, 3)).astype(np.float32) if mode == "reference" else None
    return ColorizeRequest(image=image, mode=mode, scribbles=scribbles, mask=mask, seed=seed, reference=reference)


def test_at_least_the_builtin_backend_is_registered():
    assert "variational" in BACKENDS and not REGISTRY.failures, REGISTRY.failures


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("shape", [(17, 23), (1, 5), (64, 40)])
def test_odd_sizes_dtype_and_range(name, shape):
    backend = backend_or_skip(name)
    for mode in backend.modes:
        res = run_backend(backend, request_for(backend, shape, mode))
        assert res.rgb.shape == shape + (3,) and res.rgb.dtype == np.float32 and res.rgb.flags.c_contiguous
        assert res.rgb.min() >= 0 and res.rgb.max() <= 1 and np.isfinite(res.rgb).all()
        assert res.uncertainty.shape == shape and res.uncertainty.dtype == np.float32
        assert np.isfinite(res.uncertainty).all() and res.uncertainty.min() >= 0


@pytest.mark.parametrize("name", BACKENDS)
def test_capability_errors(name):
    backend = backend_or_skip(name)
    for mode in {"auto", "scribble", "partial"} - set(backend.modes):
        with pytest.raises(InvalidRequest, match="does not serve"):
            run_backend(backend, request_for(backend, (12, 12), mode))
    if backend.needs_scribbles:
        req = request_for(backend, (12, 12))
        req.scribbles = np.zeros((12, 12, 4), np.float32)
        with pytest.raises(InvalidRequest, match="empty"):
            run_backend(backend, req)
    with pytest.raises(InvalidRequest, match="no option"):
        req = request_for(backend, (12, 12))
        req.options = {"definitely-not-an-option": 1}
        run_backend(backend, req)


@pytest.mark.parametrize("name", BACKENDS)
def test_deterministic_with_a_seed(name):
    backend = backend_or_skip(name)
    a = run_backend(backend, request_for(backend, (31, 29), seed=11))
    b = run_backend(backend, request_for(backend, (31, 29), seed=11))
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.uncertainty, b.uncertainty)


@pytest.mark.parametrize("name", BACKENDS)
def test_mask_respected(name):
    backend = backend_or_skip(name)
    req = request_for(backend, (24, 30))
    req.mask = np.zeros((24, 30), np.float32)
    req.mask[4:12, 3:20] = 1.0
    if "partial" in backend.modes:
        req.mode = "partial"
    res = run_backend(backend, req)
    outside = req.mask == 0
    assert np.array_equal(res.rgb[outside], req.image[outside])
    assert np.all(res.uncertainty[outside] == 0)


@pytest.mark.parametrize("name", BACKENDS)
def test_uncertainty_present(name):
    backend = backend_or_skip(name)
    res = run_backend(backend, request_for(backend, (40, 40)))
    if backend.gives_uncertainty:
        assert res.uncertainty.max() > 0
    assert backend.describe()["available"] is True
