# Copyright 2026 The facial-animation NNabla examples authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Faulty annotation lines: landmark lists (CelebV, WFLW) and OpenFace CSV rows.

CelebV lines are ``x0 y0 ... x97 y97 name`` and WFLW lines are the same 196
numbers followed by a box, six attributes and a path, so every landmark fault
works on the first 196 tokens and keeps the rest of the line.
"""
NUM_LANDMARK_VALUES = 196


def _split(line):
    tokens = line.split()
    if len(tokens) <= NUM_LANDMARK_VALUES:
        raise ValueError("not a landmark line: {} tokens".format(len(tokens)))
    return tokens[:NUM_LANDMARK_VALUES], tokens[NUM_LANDMARK_VALUES:]


def too_few_numbers(line, missing=2):
    """The line without its last landmark (an x and a y): 194 numbers."""
    values, rest = _split(line)
    return " ".join(values[:-missing] + rest)


def too_many_numbers(line, extra=("17.5",)):
    """The line with a stray number after the landmarks (e.g. a confidence)."""
    values, rest = _split(line)
    return " ".join(values + list(extra) + rest)


def nan_landmark(line, index=30):
    """The line with one landmark's x as NaN, as some detectors write a lost point."""
    values, rest = _split(line)
    values[2 * index] = "nan"
    return " ".join(values + rest)


def landmark_outside(line, index=0, x=25000.0):
    """The line with one landmark moved far outside any image (a units mix-up)."""
    values, rest = _split(line)
    values[2 * index] = "{:.3f}".format(x)
    return " ".join(values + rest)


def replace_line(path, number, fault):
    """Apply ``fault`` to the non-empty line ``number`` (0-based) of a text file in place."""
    with open(path) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    lines[number] = fault(lines[number])
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return lines[number]


def line_name(line):
    """The last token of an annotation line: the image's name or path."""
    return line.split()[-1]


# --- OpenFace CSV rows (prepare_au_annotations.py) ------------------------------------

def csv_row_fault(path, fault, row=1):
    """Apply ``fault`` to the cells of row ``row`` (1: the first data row) of a CSV."""
    with open(path) as f:
        rows = [[cell.strip() for cell in line.split(",")] for line in f if line.strip()]
    header = rows[0]
    rows[row] = fault(header, rows[row])
    with open(path, "w") as f:
        f.write("".join(", ".join(cells) + "\n" for cells in rows))
    return path


def csv_too_few_values(header, cells):
    """A row cut short: its last values are missing."""
    return cells[:-3]


def csv_too_many_values(header, cells):
    """A row with a stray value at the end."""
    return cells + ["0.5"]


def csv_nan_intensity(header, cells, column="AU12_r"):
    """A row whose AU intensity is NaN."""
    cells = list(cells)
    cells[header.index(column)] = "nan"
    return cells
