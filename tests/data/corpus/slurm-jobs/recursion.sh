#!/bin/bash
#SBATCH --job-name=tree_walk
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
def depth(tree, node):
    return 1 + max((depth(tree, c) for c in tree.get(node, [])), default=0)

tree = {i: [i + 1] for i in range(5000)}
tree[5000] = [0]  # a cycle in the parent table
print("depth:", depth(tree, 0))
PY
