#!/bin/bash
#SBATCH --job-name=finetune
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A run that finishes, with the warnings such runs print on the way.
python3 - <<'PY'
import warnings, sys
warnings.warn("`max_length` is deprecated and will be removed in v5", FutureWarning)
warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`", UserWarning)
print("Some weights of the model checkpoint were not used when initializing the classifier", file=sys.stderr)
for step in range(0, 500, 100):
    print(f"step {step} loss {0.7 - step / 1000:.3f} grad_norm {'inf' if step == 200 else 1.2}")
print("skipped 1 step: gradient overflow (loss scale 65536 -> 32768)")
print("Training completed. Saved model to outputs/final/")
PY
