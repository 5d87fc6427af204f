"""Writes t-c-problem.csv, the patterns of the T-C problem (PDP chapter 8), for t-c-problem.toml.

A T or a C of 5 squares in a 3 x 3 block, in each of 4 rotations, at each of the 16
places on a 4 x 4 retina that wraps around (a torus): 2 x 4 x 16 = 128 patterns. The
network has one 3 x 3 receptive field at each of the 16 places; each field is an input
layer of 9 units, so a pattern gives each field the 9 pixels it sees (the same pixel is
seen by 9 fields). Columns: the pattern name, the 9 pixels of field 1,1 (row by row),
of field 1,2, ..., of field 4,4, then the target (1 for a T, 0 for a C).

    python scenarios/make_t_c_problem.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N = 4  # the retina is N x N, and wraps around
T = [(0, 0), (0, 1), (0, 2), (1, 1), (2, 1)]  # a bar on top and a stem below its middle
C = [(0, 0), (0, 1), (1, 0), (2, 0), (2, 1)]  # a C open to the right
FIELDS = [(r, c) for r in range(N) for c in range(N)]  # the top left corner of each field


def rotations(cells: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The shape turned 0, 90, 180 and 270 degrees clockwise within its 3 x 3 block."""
    out = []
    for _ in range(4):
        out.append(sorted(cells))
        cells = [(c, 2 - r) for r, c in cells]
    return out


def patterns() -> list[tuple[str, np.ndarray, int]]:
    """(name, the N x N retina, target) for every shape, rotation and place."""
    out = []
    for letter, shape in (("T", T), ("C", C)):
        for turn, cells in enumerate(rotations(shape)):
            for r0 in range(N):
                for c0 in range(N):
                    retina = np.zeros((N, N), dtype=int)
                    for r, c in cells:
                        retina[(r0 + r) % N, (c0 + c) % N] = 1
                    out.append((f"{letter} {90 * turn} r{r0 + 1} c{c0 + 1}", retina, int(letter == "T")))
    return out


def field(retina: np.ndarray, r: int, c: int) -> np.ndarray:
    """The 9 pixels the field with top left corner (r, c) sees, row by row, wrapping around."""
    return np.roll(retina, (-r, -c), axis=(0, 1))[:3, :3].ravel()


def rows() -> list[list[str]]:
    header = ["pattern"] + [f"field {r + 1}.{c + 1} p{i + 1}" for r, c in FIELDS for i in range(9)] + ["T"]
    body = [[name] + [str(v) for r, c in FIELDS for v in field(retina, r, c)] + [str(t)]
            for name, retina, t in patterns()]
    return [header] + body


def main() -> None:
    path = Path(__file__).resolve().parent / "t-c-problem.csv"
    path.write_text("".join(",".join(row) + "\n" for row in rows()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
