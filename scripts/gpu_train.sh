#!/usr/bin/env bash
# One prepared training run of the `gan` generator (TASK=auto, the default) or of the `prior`'s hint-conditioned
# network (TASK=hints) on a single-GPU machine (the device tool's H200), or a tiny one on the CPU to check it
# (GPU_TRAIN_TINY=1, as tests/test_effunet.py does).
#
# Here, once:   .venv/bin/python -m training.gan.pack --out runs/pack --group-weights "$GROUP_WEIGHTS"
# There:        run(command="bash scripts/gpu_train.sh", carry=["runs/pack"], timeout_s=600)
# Back here:    cp <files_at>/gan.resume.pt training/weights/effunet_gan.resume.pt   (if it validated better)
# The prior:    run(command="TASK=hints bash scripts/gpu_train.sh", ...) continues the shipped prior.pt with the MSE
#               loss (no discriminator) and returns hints.resume.pt; export it with
#               python -m training.gan.export <files_at>/hints.resume.pt runs/hints_gpu/prior.pt, then select it with
#               bench/hints.py on the calibration slices before it replaces backends/prior/weights/prior.pt.
#               EXTRA_ARGS="--hint-spread 3,12,48" adds the spread hints as inputs (nets.hint_spread; the
#               prior's model card says what 60 CPU-minutes of it gave).
# Old prints: EXTRA_ARGS="--age-prob 0.3" shows a third of the photos with their lightness aged like an old print
#               (training/gan/aged_inputs.py), the colours to learn kept, so Auto's error head learns what a faded,
#               grainy input leaves unknown (issue 30: Auto's radius on aged colourful photos of a kind it never
#               saw). The ageing runs on the CPU, ~8 ms a 160 px photo: ~0.15 s a batch of 64 at 0.3. Check it with
#               python -m training.calibration.auto_samples and loso before it replaces the shipped weights.
#
# It continues from the compact checkpoint in the repository (INIT), trains for MINUTES in bf16 on the
# packed photos, and writes to $OUT: the compact checkpoint (fp16 G + D, no optimiser: < 16 MiB, what
# comes back), the training log and metrics, and the last sample grid. Nothing is installed there: the
# machine's python3 has torch, numpy, scipy, opencv and pillow, and the repository is run in place.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu_out}
PACK=${PACK:-runs/pack}
TASK=${TASK:-auto}
case "$TASK" in
  # auto: the GAN continues its compact checkpoint (G and D); hints: the prior's network alone, MSE loss
  auto)  NAME=gan;   INIT=${INIT:-training/weights/effunet_gan.resume.pt}
         TASK_ARGS=(--arch effunet --loss gan --rebalance 0.7) ;;
  hints) NAME=hints; INIT=${INIT:-backends/prior/weights/prior.pt}
         TASK_ARGS=(--task hints --loss mse) ;;
  *) echo "TASK must be auto or hints, not '$TASK'"; exit 2 ;;
esac
MINUTES=${MINUTES:-7.5}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
[ -d "$PACK" ] || { echo "no training pack at $PACK: make it with python -m training.gan.pack --out $PACK and carry it"; exit 2; }
[ -f "$INIT" ] || { echo "no checkpoint to continue at $INIT (set INIT=...)"; exit 2; }
if [ "${GPU_TRAIN_TINY:-0}" = 1 ]; then
  SIZE=(--device cpu --precision fp32 --batch 2 --crop 64 --cache-size 64 --steps 3 --val-every 3 --log-every 1)
else
  # batch 64 at 160 px fills a fraction of an H200; the run is bounded by MINUTES, not steps
  SIZE=(--device cuda --precision bf16 --batch 64 --crop 160 --cache-size 176 --steps 1000000 --val-every 500
        --log-every 50 --time-budget-min "$MINUTES")
fi
# the run folder (cache, checkpoints, grids) stays outside $OUT: only the few files copied below come back
RUN=${RUN:-/tmp/gan_gpu_run}
mkdir -p "$RUN" "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
# the pack holds training photos only, already in the training mix's proportions and audited:
# sampled uniformly; a few per source are held out to watch validation there
"$PY" -m training.gan.train --data "$PACK" --out "$RUN/$NAME.pt" --init "$INIT" "${TASK_ARGS[@]}" \
  --val-per-source 8 --calib-per-source 0 --lr 1e-4 --encoder-lr-mult 0.5 \
  --ckpt-every-s 60 --threads 16 --cache-dir "$RUN/cache" "${SIZE[@]}" ${EXTRA_ARGS:-}
"$PY" -c "import sys; from training.gan.weights_io import compact_checkpoint as c; print(c(*sys.argv[1:]))" \
  "$RUN/$NAME.pt" "$OUT/$NAME.resume.pt"
cp "$RUN/$NAME.log" "$RUN/$NAME.jsonl" "$OUT/"
last=$(ls "$RUN"/${NAME}_samples_*.png 2>/dev/null | tail -n 1) && [ -n "$last" ] && cp "$last" "$OUT/samples_last.png"
ls -la "$OUT"
