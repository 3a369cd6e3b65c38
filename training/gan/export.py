"""Export a training checkpoint to shipped weights.

    python -m training.gan.export runs/gan/gan_v1/gan.pt backends/gan/weights/gan.pt
"""
import sys

from .weights_io import export_generator

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(export_generator(sys.argv[1], sys.argv[2]))
