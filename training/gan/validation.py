"""Validation during training: PSNR, colourfulness and ab error on the held-out split, and sample grids."""
from __future__ import annotations

import numpy as np
import torch

from backends.gan.nets import run_generator


def evaluate(G, lab_val, device, masks=None, composite=True):
    """Validation PSNR (uint8 RGB), colourfulness ratio, mean ab error. masks: the generator's condition per
    photo; with composite (partial-gan's selections) the prediction and the truth are both composited
    through it (gray outside); hints are only given, not composited."""
    from .labtorch import lab_to_rgb
    from training.evaluation import colourfulness, psnr as psnr_uint8
    G.eval()
    ps, cp, ct, err = [], [], [], []
    with torch.no_grad():
        for s in range(0, lab_val.shape[0], 25):
            lab = lab_val[s:s + 25].to(device)
            m = masks[s:s + 25].to(device) if masks is not None else None
            ab, _ = run_generator(G, lab[:, :1], mask=m)
            if m is not None and composite:
                ab, lab = ab * m, torch.cat([lab[:, :1], lab[:, 1:] * m], 1)
            pred = lab_to_rgb(torch.cat([lab[:, :1], ab], 1).float()).cpu().permute(0, 2, 3, 1).numpy()
            true = lab_to_rgb(lab).cpu().permute(0, 2, 3, 1).numpy()
            err.append((ab - lab[:, 1:]).norm(dim=1).mean().item())
            for a, b in zip(pred, true):
                ps.append(psnr_uint8(a, b))
                cp.append(colourfulness(a))
                ct.append(colourfulness(b))
    G.train()
    return dict(val_psnr=float(np.mean(ps)), val_colourfulness_ratio=float(np.mean(cp) / max(np.mean(ct), 1e-6)),
                val_ab_err=float(np.mean(err)))


def save_grid(G, lab_val, device, path, masks=None, composite=True):
    from PIL import Image
    from .labtorch import lab_to_rgb
    G.eval()
    with torch.no_grad():
        lab = lab_val[:8].to(device)
        m = masks[:8].to(device) if masks is not None else None
        ab, _ = run_generator(G, lab[:, :1], mask=m)
        if m is not None and composite:
            ab = ab * m
        gray = torch.cat([lab[:, :1], torch.zeros_like(ab)], 1)
        rows = [lab_to_rgb(t.float()) for t in (gray, torch.cat([lab[:, :1], ab], 1), lab)]
    G.train()
    grid = torch.cat([torch.cat(list(r), 2) for r in rows], 1)  # (3, 3H, 8W)
    Image.fromarray((grid.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)).save(path)
