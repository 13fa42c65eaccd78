#!/bin/bash
#SBATCH --job-name=preprocess_vocab
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > vocab.py <<'PY'
from collections import Counter


def build_vocab(docs, specials):
    counts = Counter(w for d in docs for w in d.split())
    vocab = {w: i for i, (w, _) in enumerate(counts.most_common())}
    return [vocab[s] for s in specials]


def main():
    docs = ["the cat sat", "the dog sat on the mat"]
    ids = build_vocab(docs, ["the", "<unk>"])
    print(ids)


main()
PY
python3 vocab.py
