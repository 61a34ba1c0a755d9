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
"""Generators of bad input files, for ``tests/test_bad_inputs.py``.

Nothing here is a committed binary: every function writes its faulty file
(into a test's temporary folder) from a good file or from scratch.

* :mod:`.images`: truncated JPEG, zero-byte file, grayscale, CMYK and RGBA
  versions of a picture, a photo without a face;
* :mod:`.annotations`: landmark lines with too few or too many numbers, NaN,
  or a landmark far outside the image; an OpenFace CSV row with such faults;
* :mod:`.files`: configs with an unknown key or a wrong type, ``.h5``
  parameter files with a missing or mis-shaped parameter, truncated files,
  ``.pth`` and ``.pkl`` files whose pickles try to run code;
* :mod:`.folders`: an output folder that cannot be written (also as root),
  and snapshots of a folder to find what a run left behind.
"""
