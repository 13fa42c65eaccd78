#!/bin/bash
#SBATCH --job-name=finetune
#SBATCH --time=00:05:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# The user frees the node with `scancel --signal=USR1 <jobid>`; the program's handler saves a
# checkpoint and exits 0.
source venv/bin/activate
srun python3 -u -c "
import signal, sys, time, json
state = {'step': 0}
def on_usr1(signum, frame):
    print(f'received signal {signum} (SIGUSR1) at step {state[\"step\"]}: saving checkpoint', flush=True)
    with open('ckpt_last.json', 'w') as f:
        json.dump(state, f)
    print('checkpoint saved to ckpt_last.json; exiting so the job can be resubmitted', flush=True)
    sys.exit(0)
signal.signal(signal.SIGUSR1, on_usr1)
while True:
    state['step'] += 1
    if state['step'] % 10 == 0:
        print(f'step {state[\"step\"]} loss {1.0 / state[\"step\"]:.4f}', flush=True)
    time.sleep(0.2)
"
echo "finetune step exited with $?"
