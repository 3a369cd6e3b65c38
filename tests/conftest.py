import numpy as np
import pytest

@pytest.fixture(scope="session")
def registry():
    from colorcore import load_registry
    return load_registry()


@pytest.fixture
def photo():
    """A small synthetic colour 'photo': smooth gradients, two objects with edges, some texture."""
    rng = np.random.default_rng(3)
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rgb = np.stack([0.3 + 0.4 * xx, 0.5 + 0.2 * yy, 0.6 - 0.3 * xx], axis=-1)
    rgb[10:30, 8:28] = [0.8, 0.2, 0.15]
    rgb[20:40, 36:58] = [0.2, 0.6, 0.25]
    rgb += rng.normal(0, 0.01, rgb.shape)
    return np.clip(rgb, 0, 1).astype(np.float32)
