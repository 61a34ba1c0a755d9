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
"""Run a trained decoder on the target person's test frames.

    python reenactgan/test_decoder.py tmp.monitor/decoder/<trg>/<exp>/training_info.yaml \
        [--param-file netG_decoder_<e>.h5] [-n 10] [--batch-stat] [--dropout] [--context cpu]

Writes exactly ``n`` pictures (all test frames without ``-n``) to
``<test.logdir>/decoder/<trg>/<exp>/result/<i:06d>.png``, each
boundary | generated face | real face at 256x256.  ``--batch-stat`` and
``--dropout`` reproduce the authors' test-time behaviour.  Frames that cannot
be read (a bad landmark line, a corrupt image) are skipped and counted, and
the next frames are used.
"""
import argparse

import nnabla as nn

from reenactgan.data import CelebVSource, readable_samples
from reenactgan.models import DECODER_SCOPE, decode_boundaries
from reenactgan.run_files import add_test_arguments, count_to_run, decoder_param_file, \
    ResultStrips, RunBoundaries, load_run_config, resolve_test_paths
from utils.checkpoint import load_network_parameters
from utils.boundary_heatmaps import heatmaps_to_image
from utils.context import setup_context
from utils.image_io import to_uint8_image
from utils.monitoring import progress
from utils.user_errors import SkipTally, run_main


def main(argv=None):
    parser = add_test_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                                "decoder")
    parser.add_argument("--dropout", action="store_true", help="keep dropout on (the authors)")
    args = parser.parse_args(argv)
    nn.clear_parameters()  # a fresh graph, also when main() runs twice in a process
    config = load_run_config(args.config, "decoder")
    setup_context(args.context, args.device_id)
    trg = config["trg_celeb_name"]
    out_dir = resolve_test_paths(config, args, "decoder", trg, config["experiment_name"],
                                 "result")
    boundaries = RunBoundaries(config, 1, with_image=True)
    source = CelebVSource(config["train_dir"], trg, "test", config["preprocess"],
                          boundaries.outputs)
    count = count_to_run(args.num_test, len(source), trg)

    boundary = nn.Variable((1, 15) + tuple(config["preprocess"]["resize_size"]))
    fake = decode_boundaries(boundary, config, args.batch_stat, dropout=args.dropout)
    param_file = decoder_param_file(config, args.param_file)
    load_network_parameters(param_file, DECODER_SCOPE)

    skips = SkipTally()
    results = ResultStrips(out_dir, param_file)
    for _, sample in progress(readable_samples(source, count, skips), total=count,
                              desc="decoder"):
        batch = [array[None] for array in sample]
        boundary.d = boundaries(batch)
        fake.forward(clear_buffer=True)
        results.write(heatmaps_to_image(boundary.d[0], (256, 256)), to_uint8_image(fake.d[0]),
                      to_uint8_image(batch[0][0]))
    results.finish(skips, "test frames of {}".format(trg))

if __name__ == "__main__":
    run_main(main)
