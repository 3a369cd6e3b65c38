"""Networks for the `gan` backend: a U-Net generator L(+extra channels) -> ab (+ error scale)
and a PatchGAN discriminator on (L, ab).

Model-private scalings: L_in = L/50 - 1, ab_out = ab/110 (tanh), scale channel = log of the
expected |ab error| (in ab/110 units), trained with an exponential NLL on the detached error.
Extra input channels (a region mask, sparse hints + their mask) are appended after L; the
generator only needs `in_ch` changed, nothing rewritten.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .conditions import HINT_CHANNELS

AB_SCALE = 110.0


def l_to_input(L: torch.Tensor) -> torch.Tensor:
    return L / 50.0 - 1.0


class Down(nn.Module):
    def __init__(self, cin, cout, norm=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)
        self.norm = nn.BatchNorm2d(cout) if norm else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.leaky_relu(self.norm(self.conv(x)), 0.2)
        return F.leaky_relu(self.norm2(self.conv2(x)), 0.2) + x


class Up(nn.Module):
    def __init__(self, cin, cskip, cout, dropout=0.0):
        super().__init__()
        self.conv = nn.Conv2d(cin + cskip, cout, 3, 1, 1, bias=False)
        self.norm = nn.BatchNorm2d(cout)
        self.dropout = dropout

    def forward(self, x, skip, sample: bool):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        x = F.relu(self.norm(self.conv(torch.cat([x, skip], 1))))
        if self.dropout > 0:
            # dropout is the noise source: on in training, and at inference when sampling; its mask is drawn in
            # the default memory layout, so channels-last weights (inference) draw the same samples
            x = F.dropout(x.contiguous(), self.dropout, training=self.training or sample)
        return x


LOG_SCALE = slice(2, 3)   # the head's output channel of the log error scale (after the two of ab)


def log_scale(raw):
    """The head's raw log error scale, kept where exp() of it stays finite and meaningful."""
    return raw.clamp(-9.0, 3.0)


class UNetG(nn.Module):
    """U-Net generator.  widths[0] is the full-resolution stem, each further width one
    stride-2 level.  Output: (N, 3, H, W): ab/110 in [-1, 1] and log error scale."""

    def __init__(self, in_ch: int = 1, widths=(16, 32, 64, 128, 192), dropout: float = 0.5,
                 dropout_levels: int = 2):
        super().__init__()
        widths = list(widths)
        self.config = dict(in_ch=in_ch, widths=widths, dropout=dropout, dropout_levels=dropout_levels)
        # stride-2 stem: chroma is predicted at half resolution and upsampled bilinearly
        # (then guided by the full-resolution L at inference); this halves the CPU cost.
        self.stem = nn.Sequential(nn.Conv2d(in_ch, widths[0], 4, 2, 1), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(Down(widths[i], widths[i + 1]) for i in range(len(widths) - 1))
        cb = widths[-1]
        self.mid = nn.Sequential(nn.Conv2d(cb, cb, 3, 1, 1, bias=False), nn.BatchNorm2d(cb), nn.ReLU())
        ups = []
        cin = cb
        n = len(widths) - 1
        for k, i in enumerate(range(n - 1, -1, -1)):
            cout = widths[i]
            ups.append(Up(cin, widths[i], max(cout, 16), dropout if k < dropout_levels else 0.0))
            cin = max(cout, 16)
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv2d(cin, 3, 3, 1, 1)
        self.multiple = 2 ** (n + 1)

    def forward(self, x, sample: bool = False):
        skips = [self.stem(x)]
        for d in self.downs:
            skips.append(d(skips[-1]))
        h = self.mid(skips[-1])
        for up, skip in zip(self.ups, reversed(skips[:-1])):
            h = up(h, skip, sample)
        out = self.head(h)
        out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([torch.tanh(out[:, :2]), log_scale(out[:, LOG_SCALE])], 1)


def hint_spread(cond: torch.Tensor, radii) -> torch.Tensor:
    """Sparse hints (N, 3, H, W: a, b, mask) -> their colours spread by normalised box filters, one per radius
    (px): the mean hint ab within the box (2 channels, 0 where the box holds no hint) and how much hint it holds,
    1 - exp(-pixels / 9) (1 channel: 0.63 for one 3x3 point). (N, 3 * len(radii), H, W).

    Why: a hint is a few pixels; the encoder's first layer sees it at one place, and the network needs long
    training to carry it across the photo. Spread, every pixel sees the colours of the hints around it at
    several ranges, and the network only has to learn where they apply."""
    m = cond[:, 2:3]
    x = torch.cat([cond[:, :2] * m, m], 1)
    outs = []
    for r in radii:
        k = 2 * int(r) + 1
        box = F.avg_pool2d(x, (k, 1), 1, (int(r), 0))   # zero padding: times k*k, the sums within the box
        box = F.avg_pool2d(box, (1, k), 1, (0, int(r)))
        count = box[:, 2:3] * (k * k)                  # hint pixels within the box
        outs += [box[:, :2] / box[:, 2:3].clamp(min=1e-12) * (count > 1e-3), 1 - torch.exp(-count / 9.0)]
    return torch.cat(outs, 1)


class EffUNetG(nn.Module):
    """U-Net generator on an ImageNet-pretrained EfficientNet-Lite0 encoder (effnet.py) and a light
    decoder that stops at stride 2 (chroma is predicted at half resolution, as in UNetG).
    Same output as UNetG: (N, 3, H, W) = ab/110 in [-1, 1] and the log error scale.
    hint_spread (radii in px, hint-conditioned generators only): the encoder also sees the hints spread
    (hint_spread), computed inside, so callers still pass L and the three hint channels."""

    def __init__(self, in_ch: int = 1, dec_widths=(192, 96, 64, 32), dropout: float = 0.5,
                 dropout_levels: int = 2, hint_spread=()):
        super().__init__()
        from .effnet import Lite0Encoder
        dec_widths = list(dec_widths)
        self.config = dict(arch="effunet", in_ch=in_ch, dec_widths=dec_widths, dropout=dropout,
                           dropout_levels=dropout_levels)
        self.hint_spread = [int(r) for r in hint_spread]
        if self.hint_spread:
            if in_ch != 1 + HINT_CHANNELS:
                raise ValueError(f"hint_spread needs a generator of L and {HINT_CHANNELS} hint channels; "
                                 f"this one takes {in_ch} input channel(s)")
            self.config["hint_spread"] = self.hint_spread
        self.encoder = Lite0Encoder(in_ch + HINT_CHANNELS * len(self.hint_spread))
        ch = self.encoder.channels
        cin = ch[-1]
        ups = []
        for k, (cskip, cout) in enumerate(zip(reversed(ch[:-1]), dec_widths)):
            ups.append(Up(cin, cskip, cout, dropout if k < dropout_levels else 0.0))
            cin = cout
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv2d(cin, 3, 3, 1, 1)
        self.multiple = 32

    def encode(self, x):
        """The encoder's feature maps: no dropout there, so every dropout sample of one input shares them."""
        if self.hint_spread:
            x = torch.cat([x, hint_spread(x[:, 1:1 + HINT_CHANNELS], self.hint_spread)], 1)
        return self.encoder(x)

    def decode_features(self, feats, sample: bool = False):
        """The last decoder level's feature map (N, dec_widths[-1], H/2, W/2), which the head reads."""
        h = feats[-1]
        for up, skip in zip(self.ups, reversed(feats[:-1])):
            h = up(h, skip, sample)
        return h

    def head_output(self, h, size):
        """The output at `size` from the last decoder level's features (decode_features)."""
        out = F.interpolate(self.head(h), size=size, mode="bilinear", align_corners=False)
        return torch.cat([torch.tanh(out[:, :2]), log_scale(out[:, LOG_SCALE])], 1)

    def decode(self, feats, size, sample: bool = False):
        """The output at `size` (the input's height and width) from the encoder's feature maps."""
        return self.head_output(self.decode_features(feats, sample), size)

    def forward(self, x, sample: bool = False):
        return self.decode(self.encode(x), x.shape[-2:], sample)


def build_generator(config: dict) -> nn.Module:
    """A generator from the config it recorded (weights JSON, checkpoint): the one place that maps
    configs to classes, for training and inference alike."""
    cfg = dict(config)
    arch = cfg.pop("arch", "unet")
    if arch == "effunet":
        return EffUNetG(**cfg)
    if arch == "unet":
        if cfg.get("hint_spread"):
            raise ValueError("hint_spread needs the effunet generator; the unet one has none")
        return UNetG(in_ch=cfg["in_ch"], widths=tuple(cfg["widths"]), dropout=cfg["dropout"],
                     dropout_levels=cfg.get("dropout_levels", 2))
    raise ValueError(f"unknown generator architecture {arch!r}: expected 'unet' or 'effunet'")


class PatchD(nn.Module):
    """PatchGAN on (L, ab): 3 stride-2 levels + a 1-channel patch map (~46 px receptive field)."""

    def __init__(self, in_ch: int = 3, width: int = 32, levels: int = 3):
        super().__init__()
        self.config = dict(in_ch=in_ch, width=width, levels=levels)
        layers = [nn.Conv2d(in_ch, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for _ in range(levels - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2)]
            c *= 2
        layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.LeakyReLU(0.2),
                   nn.Conv2d(c, 1, 3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, L_in, ab):
        return self.net(torch.cat([L_in, ab], 1))


def generator_input(L: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Generator input: scaled L, plus the region mask for partial-gan (hints would follow the same way)."""
    x = l_to_input(L)
    return x if mask is None else torch.cat([x, mask.to(x)], 1)


def generator_forward(G: nn.Module, L: torch.Tensor, mask: torch.Tensor | None = None, sample: bool = False):
    """The one forward pass, for training and inference alike: L (N, 1, H, W) in 0..100 [+ mask] -> the
    generator's output in its own units (N, 3, H, W): ab/AB_SCALE and the log error scale. Pads to the
    generator's multiple and crops back; G may be wrapped (DDP: its .module has .multiple)."""
    multiple = getattr(G, "multiple", None) or G.module.multiple
    x, (h, w) = pad_to_multiple(generator_input(L, mask), multiple)
    return G(x, sample=sample)[..., :h, :w]


def in_lab_units(out: torch.Tensor):
    """The generator's output as ab (N, 2, H, W) in Lab units and the log error scale (N, 1, H, W)."""
    return out[:, :2] * AB_SCALE, out[:, 2:3]


def run_generator(G: nn.Module, L: torch.Tensor, mask: torch.Tensor | None = None, sample: bool = False):
    """generator_forward in Lab units: ab (N, 2, H, W) and the log error scale (N, 1, H, W)."""
    return in_lab_units(generator_forward(G, L, mask, sample))


def dropout_samples(G: nn.Module, L: torch.Tensor, mask: torch.Tensor | None, samples: int, batch: int = 4):
    """run_generator with dropout on, `samples` times on one input L (1, 1, H, W) [+ mask], `batch` at a time:
    yields (ab, log error scale) per batch. The encoder has no dropout, so a generator that splits (encode,
    decode) encodes the batch once for all of them: the same numbers as a full pass per batch (the same input
    rows, the same dropout draws in the same order), 0.04 s less a 1 MP Auto run at 8 samples."""
    n0 = min(batch, samples)
    L, mask = L.expand(n0, -1, -1, -1), None if mask is None else mask.expand(n0, -1, -1, -1)
    if not hasattr(G, "encode"):
        for s0 in range(0, samples, batch):
            n = min(batch, samples - s0)
            yield run_generator(G, L[:n], None if mask is None else mask[:n], sample=True)
        return
    x, (h, w) = pad_to_multiple(generator_input(L, mask), G.multiple)
    feats = G.encode(x)
    for s0 in range(0, samples, batch):
        n = min(batch, samples - s0)
        yield in_lab_units(G.decode([f[:n] for f in feats], x.shape[-2:], sample=True)[..., :h, :w])


def pad_to_multiple(x: torch.Tensor, m: int):
    h, w = x.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)
