#!/usr/bin/env python
"""Compare the output layers side by side: speed, training loss, held-out perplexity, quality.

Runs with no arguments on gensim's bundled Lee corpus; give a path or URL (plain, .gz, .bz2)
for your own. Writes comparison.csv, comparison.json and two PNG plots into --out (default:
the current directory) and prints their paths.

    python examples/compare_modes.py
    python examples/compare_modes.py ../shared/corpora/wordnet-glosses.txt.gz --out results/

Same as ``python -m blackout_ext compare``; every option of that command works here.
"""
import sys

from blackout_ext.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare"] + sys.argv[1:]))
