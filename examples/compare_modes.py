#!/usr/bin/env python
"""Compare the output layers side by side: speed, training loss, held-out perplexity, quality.

Runs with no arguments on the embedded WordNet glosses (1.77M tokens); give a path or URL
(plain, .gz, .bz2) for your own. Writes comparison.csv, comparison.json, two PNG plots and
report.md into --out (default: the current directory) and prints their paths.

    python examples/compare_modes.py --out results/
    python examples/compare_modes.py my-corpus.txt.gz --out results/ --softmax-fraction 1
    python examples/compare_modes.py --model fasttext --modes ns,nce,blackout --out results-ft/
    python examples/compare_modes.py --model doc2vec --modes ns,nce,blackout --out results-d2v/

Same as ``python -m blackout_ext compare``; every option of that command works here.
"""
import sys

from blackout_ext.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare"] + sys.argv[1:]))
