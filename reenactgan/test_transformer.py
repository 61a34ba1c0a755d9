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
"""Run a trained transformer on the source person's test frames.

    python reenactgan/test_transformer.py tmp.monitor/transformer/<src>2<trg>/<exp>/training_info.yaml \
        [--param-file netG_transformer_A2B_<e>.h5] [-n 10] [--batch-stat] [--context cpu]

Writes exactly ``n`` pictures (all test frames without ``-n``) to
``<test.logdir>/transformer/<src>2<trg>/<exp>/result/<i:06d>.png``, each
real_A | fake_B | real_B at 64x64: the source boundary, its translation,
and the target's test boundary of the same index (for reference).  Frames
that cannot be read (a bad landmark line, a corrupt image) are skipped and
counted, and the next frames are used.
"""
import argparse

import nnabla as nn
import numpy as np

from reenactgan.data import CelebVSource, readable_samples
from reenactgan.models import TRANSFORMER_A2B_SCOPE, transform_boundaries
from reenactgan.run_files import ResultStrips, RunBoundaries, add_test_arguments, count_to_run, \
    load_run_config, resolve_test_paths, transformer_param_file
from utils.checkpoint import load_network_parameters
from utils.boundary_heatmaps import heatmaps_to_image
from utils.context import setup_context
from utils.monitoring import progress
from utils.user_errors import CorruptSampleError, SkipTally, run_main


def main(argv=None):
    args = add_test_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                              "transformer").parse_args(argv)
    nn.clear_parameters()  # a fresh graph, also when main() runs twice in a process
    config = load_run_config(args.config, "transformer")
    setup_context(args.context, args.device_id)
    src, trg = config["src_celeb_name"], config["trg_celeb_name"]
    out_dir = resolve_test_paths(config, args, "transformer", "{}2{}".format(src, trg),
                                 config["experiment_name"], "result")
    boundaries = RunBoundaries(config, 1)
    source = CelebVSource(config["train_dir"], src, "test", config["preprocess"],
                          boundaries.outputs)
    target = CelebVSource(config["train_dir"], trg, "test", config["preprocess"],
                          boundaries.outputs)
    count = count_to_run(args.num_test, len(source), src)

    real_A = nn.Variable((1, 15) + tuple(config["preprocess"]["resize_size"]))
    fake_B = transform_boundaries(real_A, config, args.batch_stat)
    param_file = transformer_param_file(config, args.param_file)
    load_network_parameters(param_file, TRANSFORMER_A2B_SCOPE)

    def boundary(sample):
        return boundaries([array[None] for array in sample])

    def reference(index):
        """The target's test boundary of that index; black when its frame is unreadable."""
        try:
            return boundary(target.get(index % len(target)))
        except CorruptSampleError as err:
            skips.add(err, key=("target", index % len(target)))
            return np.zeros_like(real_A.d)

    skips = SkipTally()
    results = ResultStrips(out_dir, param_file)
    for i, sample in progress(readable_samples(source, count, skips), total=count,
                              desc="transformer"):
        real_A.d = boundary(sample)
        fake_B.forward(clear_buffer=True)
        results.write(heatmaps_to_image(real_A.d[0]), heatmaps_to_image(fake_B.d[0]),
                      heatmaps_to_image(reference(i)[0]))
    results.finish(skips, "test frames of {}".format(src))

if __name__ == "__main__":
    run_main(main)
