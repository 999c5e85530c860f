#!/usr/bin/env bash
# GPU checks for a lent machine (one H100/H200, no network, no TensorRT), from the repo root:
#
#   bash benchmarks/gpu_check.sh            # PYTHON=python3 and OUT=/some/dir are honoured
#
# Steps, each with its own time limit and log under "${OUT:-/tmp/gpu_check}", tee'd here:
#   env.txt          nvidia-smi and the Python packages this machine has
#   install.txt      making the plugins' entry points visible (see register_plugins)
#   tests_gpu.txt    pytest -m "gpu or tensorrt" (junit: pytest_gpu.xml)
#   bench_gpu.txt    rfloc bench --suite benchmarks/suites/gpu-check.toml: every GPU runtime
#                    and the quick accuracy budget trained on the GPU (report: bench-gpu/)
#   data_gpu.txt     benchmarks.data on cuda
# A failing step does not stop the others; summary.txt lists every step's exit status and the
# script exits 1 when any failed. All steps together stay under TOTAL_S seconds.
set -u

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
OUT="${OUT:-/tmp/gpu_check}"
PYTHON="${PYTHON:-python}"
TOTAL_S=460
mkdir -p "$OUT"

export PYTHONPATH=".:plugins/convnext:plugins/resnet:plugins/vit:plugins/efficientnet${PYTHONPATH:+:$PYTHONPATH}"
export MLFLOW_TRACKING_URI="sqlite:///$OUT/mlflow.db"
export RFLOC_CACHE_DIR="$OUT/rfloc-cache"
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_BREAK_SYSTEM_PACKAGES=1

STEPS=()
CODES=()

# run_step NAME LOG LIMIT_S COMMAND...: run COMMAND under timeout, log to $OUT/LOG and stdout.
run_step() {
    local name=$1 log="$OUT/$2" limit_s=$3
    shift 3
    local left_s=$((TOTAL_S - SECONDS))
    ((limit_s > left_s)) && limit_s=$left_s
    STEPS+=("$name")
    if ((limit_s < 5)); then
        echo "=== $name: skipped, the ${TOTAL_S} s budget is spent" | tee "$log"
        CODES+=(124)
        return
    fi
    echo "=== $name (limit ${limit_s} s): $*" | tee "$log"
    local start_s=$SECONDS
    timeout --kill-after=10 "$limit_s" "$@" 2>&1 | tee -a "$log"
    local code=${PIPESTATUS[0]}
    echo "=== $name: exit $code after $((SECONDS - start_s)) s" | tee -a "$log"
    CODES+=("$code")
}

cat >"$OUT/env_summary.py" <<'PY'
import importlib
import sys

print("python", sys.version.split()[0], sys.executable)
for name in (
    "torch", "triton", "onnx", "onnxscript", "onnxruntime", "tensorrt", "timm", "lightning",
    "mlflow", "pydantic", "pluggy", "typer", "rich", "safetensors", "pymap3d", "h5py", "sigmf",
    "matplotlib", "hatchling", "pytest",
):
    try:
        module = importlib.import_module(name)
        print(f"{name:<12} {getattr(module, '__version__', '?')}")
    except Exception as error:
        print(f"{name:<12} MISSING ({type(error).__name__}: {str(error)[:120]})")
try:
    import torch

    print("torch cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
          "available", torch.cuda.is_available(), "threads", torch.get_num_threads())
    if torch.cuda.is_available():
        print("gpu", torch.cuda.get_device_name(0), "capability",
              torch.cuda.get_device_capability(0), "bf16", torch.cuda.is_bf16_supported())
except Exception as error:
    print("torch check failed:", error)
try:
    import onnxruntime

    print("onnxruntime providers", onnxruntime.get_available_providers())
except Exception as error:
    print("onnxruntime check failed:", error)
PY

# True when the four plugin families are registered through their entry points.
models_listed() {
    timeout 60 "$PYTHON" -c '
import sys
import rfloc_core
names = rfloc_core.list_models()
print("rfloc_core.list_models():", names)
wanted = {"convnext_atto", "resnet18", "vit_tiny_patch16", "efficientnet_b0"}
sys.exit(0 if wanted <= set(names) else 1)'
}

# A .dist-info folder with entry points only, as an installer writes; importlib.metadata
# finds it on PYTHONPATH, which is all the registry needs (the code itself is on PYTHONPATH).
write_shim() {
    local site=$1 dist=$2 version=$3 entry_points=$4
    local info="$site/${dist//-/_}-$version.dist-info"
    mkdir -p "$info"
    printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$dist" "$version" >"$info/METADATA"
    printf '%b' "$entry_points" >"$info/entry_points.txt"
    : >"$info/RECORD"
}

project_version() {
    sed -n 's/^version = "\(.*\)"/\1/p' "$1/pyproject.toml" | head -n 1
}

# Entry points need installed metadata: try what is there, then pip (no network, so it works
# only where hatchling is installed), then metadata shims.
register_plugins() {
    local families=(convnext resnet vit efficientnet) family
    echo "--- already registered?"
    if models_listed; then
        echo "REGISTRATION: already installed"
        return 0
    fi
    echo "--- pip install --no-deps --no-build-isolation -e (editable)"
    local editable=(-e .)
    for family in "${families[@]}"; do editable+=(-e "plugins/$family"); done
    timeout 60 "$PYTHON" -m pip install --no-deps --no-build-isolation "${editable[@]}"
    if models_listed; then
        echo "REGISTRATION: pip install --no-deps --no-build-isolation -e"
        return 0
    fi
    echo "--- pip install --no-deps --no-index --no-build-isolation (local paths)"
    timeout 60 "$PYTHON" -m pip install --no-deps --no-index --no-build-isolation . \
        "${families[@]/#/plugins/}"
    if models_listed; then
        echo "REGISTRATION: pip install --no-deps --no-index (local paths)"
        return 0
    fi
    echo "--- metadata shims in $OUT/site"
    local site="$OUT/site" core_version
    core_version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' rfloc_core/__about__.py)
    write_shim "$site" rfloc-core "$core_version" \
        '[console_scripts]\nrfloc = rfloc_core.cli:main\n[pytest11]\nrfloc = rfloc_core.testing.pytest_plugin\n'
    for family in "${families[@]}"; do
        write_shim "$site" "rfloc-$family" "$(project_version "plugins/$family")" \
            "[rfloc]\n$family = rfloc_$family\n"
    done
    export PYTHONPATH="$site:$PYTHONPATH"
    if models_listed; then
        echo "REGISTRATION: metadata shims in $site (PYTHONPATH)"
        return 0
    fi
    echo "REGISTRATION: none worked; the plugins' backbones are not registered"
    return 1
}

# (a) environment
# shellcheck disable=SC2016 # $0 and $? belong to the inner bash
run_step env env.txt 45 bash -c 'nvidia-smi; smi=$?; "$0" "$1"; py=$?; exit $((smi || py))' \
    "$PYTHON" "$OUT/env_summary.py"

# (b) entry points; in this shell, since a shim changes PYTHONPATH for the later steps
STEPS+=(install)
echo "=== install" | tee "$OUT/install.txt"
register_plugins > >(tee -a "$OUT/install.txt") 2>&1
CODES+=($?)
sleep 1 # let tee flush before the next step writes

# (c) the GPU- and TensorRT-marked tests (TensorRT ones skip here, with their reason)
TEST_DIRS=(tests plugins/*/tests)
run_step tests tests_gpu.txt 90 "$PYTHON" -m pytest -m "gpu or tensorrt" -rs -p no:cacheprovider \
    --junitxml="$OUT/pytest_gpu.xml" "${TEST_DIRS[@]}"

# (d) the benchmark suite on the GPU; each finished cell is saved, so a timeout keeps them and
# `rfloc bench ... --resume` (or a second run of this script with the same OUT) finishes it
run_step bench bench_gpu.txt 270 "$PYTHON" -m rfloc_core bench --no-progress \
    --suite benchmarks/suites/gpu-check.toml --out "$OUT/bench-gpu" --resume

# (e) simulation and features on the GPU
run_step data data_gpu.txt 35 "$PYTHON" -m benchmarks.data --device cuda --seconds 4

{
    echo "step      exit"
    for i in "${!STEPS[@]}"; do
        printf '%-9s %s\n' "${STEPS[$i]}" "${CODES[$i]}"
    done
    echo "total ${SECONDS} s; logs in $OUT"
} | tee "$OUT/summary.txt"
for code in "${CODES[@]}"; do
    ((code != 0)) && exit 1
done
exit 0
