#!/usr/bin/python3
"""Writes the calibration data for building the digits sample with Quantize="int8".

    Data/digits-calibration.csv   100 images of the TRAINING split (p0..p63 scaled to [0,1], no label)

Calibration must not see the test images it is later judged on, so it takes the first 100 images of
the training split of train.py (same load_digits, same train_test_split arguments). The validation
data is the test split train.py already writes: Data/digits-test.csv (labelled, 450 rows).
Deterministic: rerunning it reproduces the file byte for byte. Needs Debian's python3-sklearn only.
"""
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 100


def main():
    digits = load_digits()
    x = digits.data / 16.0  # pixel values 0..16 -> [0, 1], exactly k/16
    y = digits.target
    x_train, _, _, _ = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    path = os.path.join(HERE, "Data", "digits-calibration.csv")
    with open(path, "w", newline="\n") as f:
        f.write(",".join(f"p{i}" for i in range(64)) + "\n")
        for row in x_train[:ROWS]:
            f.write(",".join(f"{float(v):.4g}" for v in row) + "\n")  # as train.py writes the test split
    print(f"wrote {path} ({ROWS} rows)")


if __name__ == "__main__":
    main()
