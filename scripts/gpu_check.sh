#!/usr/bin/env bash
# The GPU checks of issue 4 in one run, sized for one device call (under 10 minutes on one GPU):
#   1. the CUDA-only tests (autocast float16/bfloat16 on both paths, .to("cuda"), device mismatch,
#      `check --device cuda`);
#   2. which kernels the fused path ran, from the PyTorch profiler (aten::_cudnn_rnn and the cuDNN
#      kernels), for every layer, with and without a right-padded mask;
#   3. the benchmark matrix on CUDA (ours fused and loop vs torch.nn vs Keras 3), peak memory, and
#      the seed's MNIST-rows epoch on the fused and the loop path;
#   4. `fit` on the device: the seed's model trains through the fused path, cuDNN's kernel in the profile.
# Everything it prints also lands in $OUT (or ./gpu_out), step by step, so a run cut short still
# returns what it finished.
#
# On a machine without network access, Keras and the two packages it needs that such images
# lack (namex, optree) travel as wheels in ./.whl (see docs/benchmarks.md, "GPU").
# QUICK=1 DEVICE=cpu bash scripts/gpu_check.sh is a dry run of the whole script on a CPU.
set -o pipefail
export PYTHONUNBUFFERED=1 KERAS_BACKEND=torch
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}
if [ -d .whl ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if [ -n "$QUICK" ]; then
    SIZES=mnist; REPEATS=2; SAMPLES=(--train-samples 512)
else
    SIZES=mnist,medium; REPEATS=5; SAMPLES=()
fi

step() {   # step NAME SECONDS COMMAND...: run with a time limit, keep its output in $OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*" | tee -a "$OUT/summary.log"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | grep -v "^USDT" | tee "$OUT/$name.log"
    echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start))s" | tee -a "$OUT/summary.log"
}

step environment 60 "$PYTHON" -c "
import torch, kerasrnn_torch
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())
print('device', torch.cuda.get_device_name() if torch.cuda.is_available() else 'none')
import keras; print('keras', keras.__version__, keras.backend.backend())"
step cuda_tests 150 "$PYTHON" -m pytest -p no:cacheprovider -q -k cuda \
    tests/test_bad_input.py tests/layers/rnn/test_torch_interop.py tests/test_main.py
step kernels 60 "$PYTHON" scripts/benchmark.py --device "$DEVICE" --skip-matrix --kernel-check --no-keras \
    --json "$OUT/kernels.json"
step matrix 240 "$PYTHON" scripts/benchmark.py --device "$DEVICE" --sizes "$SIZES" --repeats "$REPEATS" \
    --memory --json "$OUT/matrix.json" --markdown "$OUT/matrix.md"
step long_and_training 150 "$PYTHON" scripts/benchmark.py --device "$DEVICE" --sizes long --repeats "$REPEATS" \
    --no-keras --train-mnist "${SAMPLES[@]}" --json "$OUT/long.json" --markdown "$OUT/long.md"
step fit 120 "$PYTHON" scripts/gpu_fit_check.py --device "$DEVICE" ${QUICK:+--samples 640 --epochs 1}
