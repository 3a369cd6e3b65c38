"""Geometric alignment of the reference onto the photo, when they show the same scene.

A later photo of the same house, a postcard of the same square, another frame of the same film, or the photo's
own colour original: then most of the reference is the same surfaces seen from about the same place, and colour
can be taken pixel by pixel instead of by meaning. SIFT keypoints (Lowe 2004) on both lightness images, Lowe's
ratio test, and a RANSAC homography; when enough matches agree, the reference is warped onto the photo and
DIS optical flow (Kroeger et al. 2016) corrects what a homography cannot (parallax, moving things). A warped
pixel is trusted as far as its lightness, after the tones are matched, agrees with the photo's: where the two
disagree (something moved, an occlusion, another season) the pixel gives no hint and the semantic matches and
the learned guess take over. Works at ALIGN_SIDE px at most; the result is brought back to the caller's size.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ALIGN_SIDE = 640          # longer side (px) of the alignment
MIN_INLIERS = 20          # RANSAC inliers needed to call the two the same scene
MIN_INLIER_SHARE = 0.25   # ... and this share of the ratio-test matches
LIGHTNESS_TOLERANCE = 6.0  # L units: a warped pixel whose lightness differs this much keeps exp(-1/2) of its trust


@dataclass
class Alignment:
    ab: np.ndarray        # (H, W, 2) the reference's chroma warped onto the photo
    weight: np.ndarray    # (H, W) trust in [0, 1] (0 outside the reference and where lightness disagrees)
    residual: np.ndarray  # (H, W) lightness disagreement after tone matching (L units)
    inliers: int


def _gray8(L):
    return np.clip(L * 2.55 + 0.5, 0, 255).astype(np.uint8)


def _scaled(a, s, interp=cv2.INTER_AREA):
    if s == 1.0:
        return np.ascontiguousarray(a)
    h, w = a.shape[:2]
    return cv2.resize(np.ascontiguousarray(a), (max(8, round(w * s)), max(8, round(h * s))), interpolation=interp)


def homography(L_tgt, L_ref, alpha_ref):
    """3x3 map from target to reference pixel coordinates (both at their given sizes) and its inlier count, or
    (None, inliers) when the two do not show the same scene."""
    sift = cv2.SIFT_create(nfeatures=1500)
    k_t, d_t = sift.detectAndCompute(_gray8(L_tgt), None)
    k_r, d_r = sift.detectAndCompute(_gray8(L_ref), (alpha_ref > 0.5).astype(np.uint8) * 255)
    if d_t is None or d_r is None or len(k_t) < 8 or len(k_r) < 8:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(d_t, d_r, k=2)
    good = [m for m, *n in pairs if n and m.distance < 0.75 * n[0].distance]
    if len(good) < MIN_INLIERS:
        return None, len(good)
    src = np.float32([k_t[m.queryIdx].pt for m in good])
    dst = np.float32([k_r[m.trainIdx].pt for m in good])
    thr = 0.006 * max(L_tgt.shape)
    H, inl = cv2.findHomography(src, dst, cv2.RANSAC, ransacReprojThreshold=max(2.0, thr), maxIters=2000,
                                confidence=0.995)
    n = int(inl.sum()) if inl is not None else 0
    if H is None or n < MIN_INLIERS or n < MIN_INLIER_SHARE * len(good) or abs(np.linalg.det(H[:2, :2])) < 1e-3:
        return None, n
    return H, n


def align(L_tgt, L_ref, ab_ref, alpha_ref, tolerance=LIGHTNESS_TOLERANCE):
    """The reference warped onto the target (see the module's docstring), at the target's size; None when the
    two do not show the same scene."""
    H_t, W_t = L_tgt.shape
    s_t = min(1.0, ALIGN_SIDE / max(H_t, W_t))
    s_r = min(1.0, ALIGN_SIDE / max(L_ref.shape))
    Lt, Lr = _scaled(L_tgt, s_t), _scaled(L_ref, s_r)
    ar = _scaled(alpha_ref, s_r)
    Hm, inliers = homography(Lt, Lr, ar)
    if Hm is None:
        return None
    h, w = Lt.shape
    inv_flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP   # Hm maps target -> reference: sample the reference there
    ref_stack = np.dstack([Lr, _scaled(ab_ref, s_r), ar]).astype(np.float32)
    warped = cv2.warpPerspective(ref_stack, Hm, (w, h), flags=inv_flags, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0)
    # tone matching on the overlap, then flow refines what the homography leaves
    inside = warped[..., 3] > 0.99
    if inside.mean() < 0.05:
        return None
    Lw = warped[..., 0]
    mt, st = Lt[inside].mean(), Lt[inside].std()
    mw, sw = Lw[inside].mean(), Lw[inside].std()
    Lw_t = np.where(inside, (Lw - mw) * (st / max(sw, 1e-3)) + mt, Lt)   # outside: the target (zero flow there)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(_gray8(Lt), _gray8(Lw_t), None)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    refined = cv2.remap(np.dstack([Lw_t, warped[..., 1:4]]).astype(np.float32), gx + flow[..., 0],
                        gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # the lightness check: on a lightly smoothed difference, so grain and JPEG noise do not cut trust
    resid = cv2.GaussianBlur(np.abs(refined[..., 0] - Lt), (0, 0), 1.0)
    weight = np.clip(refined[..., 3], 0, 1) * np.exp(-0.5 * (resid / tolerance) ** 2)
    weight = cv2.erode(weight, np.ones((3, 3), np.uint8))   # the overlap's rim is half outside
    ab = refined[..., 1:3]
    if s_t != 1.0:
        ab = cv2.resize(ab, (W_t, H_t), interpolation=cv2.INTER_LINEAR)
        weight = cv2.resize(weight, (W_t, H_t), interpolation=cv2.INTER_LINEAR)
        resid = cv2.resize(resid, (W_t, H_t), interpolation=cv2.INTER_LINEAR)
    return Alignment(ab=np.ascontiguousarray(ab, np.float32), weight=np.clip(weight, 0, 1).astype(np.float32),
                     residual=resid.astype(np.float32), inliers=inliers)
