"""Build digits.csv and digits-test.csv: real handwritten digits, 8 x 8 pixels.

Source: the "Optical Recognition of Handwritten Digits" data of E. Alpaydin and
C. Kaynak (UCI Machine Learning Repository, 1998; licence CC BY 4.0), in the copy that
scikit-learn ships as ``sklearn/datasets/data/digits.csv.gz`` (scikit-learn 1.9.1):
the UCI test set, 1,797 images written by 13 people. Each image is 32 x 32 black and
white pixels counted in 4 x 4 blocks, so each of its 8 x 8 = 64 inputs is a number
from 0 (no ink) to 16 (all ink); the last column is the digit. That file is kept
beside this script as ``digits-source.csv.gz``, unchanged, so the CSVs can be made
again without scikit-learn (which bptui does not depend on).

The split: every fifth image (the 5th, 10th, ...) is held out as the test set (359
images), the other 1,438 are for training. The file's order mixes the digits, so
every digit is in both sets: from 21 (the ones) to 52 (the threes) of each in the test
set. Inputs are divided by 16, to 0..1 (a
sigmoid unit saturates on inputs of 16); targets are one-hot: ten output units, the
right digit's on.

Run ``python scenarios/make_digits.py`` to write both CSVs beside it;
tests/test_digits.py checks that the committed ones are what it makes.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "digits-source.csv.gz"
IMAGES = 1797
HELD_OUT_EVERY = 5


def images() -> list[tuple[list[int], int]]:
    """(64 pixel counts, the digit) of every image, in the source's order."""
    with gzip.open(SOURCE, "rt", encoding="ascii") as f:
        rows = [[int(cell) for cell in row] for row in csv.reader(f)]
    assert len(rows) == IMAGES and all(len(row) == 65 for row in rows)
    assert all(0 <= x <= 16 for row in rows for x in row[:64]) and {row[64] for row in rows} == set(range(10))
    return [(row[:64], row[64]) for row in rows]


def held_out(k: int) -> bool:
    """Whether image k (counted from 0) is in the test set: every fifth."""
    return (k + 1) % HELD_OUT_EVERY == 0


def header() -> list[str]:
    return (["pattern"] + [f"pixel r{r}c{c}" for r in range(8) for c in range(8)]
            + [f"is {d}" for d in range(10)])


def build(test: bool) -> str:
    """The text of digits-test.csv (test) or digits.csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header())
    for k, (pixels, digit) in enumerate(images()):
        if held_out(k) == test:
            # k/16 is a short exact decimal (0.0625 steps): the CSV reads back bit for bit.
            writer.writerow([f"{digit}-{k + 1:04d}"] + [f"{x / 16:g}" for x in pixels]
                            + [int(d == digit) for d in range(10)])
    return out.getvalue()


def main() -> None:
    for name, test in (("digits.csv", False), ("digits-test.csv", True)):
        path = HERE / name
        path.write_text(build(test), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
