"""The generator's input channels after L, per learned backend (torch-free: availability checks read it)."""
MASK_CHANNELS = 1   # partial-gan: the selection mask
HINT_CHANNELS = 3   # prior: the hints' a, b and their mask
