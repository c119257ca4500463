#!/usr/bin/env bash
# Reproduce the planner's adapter (issue #13) from the project's files: build the plan conversations,
# LoRA-SFT the demo model on them, publish the adapter to training/adapters/planner (with a
# manifest holding the data file's sha256). About 50 minutes on 2 free CPU cores (fp32, AVX2;
# data ~10 min, 60 SFT steps ~40 min: docs/training.md); set DATA or RUN to write elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || bash scripts/setup.sh
source .venv/bin/activate
DATA=${DATA:-data/training-planner}
RUN=${RUN:-runs/sft-planner}
export HF_HUB_OFFLINE=1
[ -f data/demo.duckdb ] || opsbrain demo-data
[ -f data/models/qwen2.5-coder-0.5b-instruct/config.json ] || opsbrain model demo-base
start=$(date +%s)
opsbrain train data --out "$DATA" --sft 600 --answers 0 --rm 100 --prompts 60 --seed 0
opsbrain train sft --config training/configs/planner/sft.yaml --data "$DATA" --out "$RUN"
opsbrain train publish --run "$RUN" --data "$DATA/sft.jsonl" --out training/adapters/planner
echo "done in $(( ($(date +%s) - start) / 60 )) min"
