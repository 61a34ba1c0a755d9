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
"""Export a trained network to NNP and ONNX for deployment.

    python export.py encoder     tmp.monitor/encoder/<exp>
    python export.py transformer tmp.monitor/transformer/<src>2<trg>/<exp> --batch-size 8
    python export.py decoder     tmp.monitor/decoder/<trg>/<exp> --formats onnx -o decoder
    python export.py ganimation  tmp.monitor/ganimation/<exp> --batch-size 5

The second argument is the run's training_info.yaml or its folder; the
parameters are the run's newest (the encoder's best model) unless
``--param-file``.  Writes ``<prefix>.nnp`` (nnabla's format: network and
parameters, ``nnabla.utils.nnp_graph.NnpLoader`` or NNabla C Runtime) and
``<prefix>.onnx`` (opset 11, for onnxruntime, TensorRT, OpenVINO...), with
the prefix ``<parameter file>.<network>.b<batch>`` by default.  Inputs and
outputs are named, the batch size is fixed:

    encoder      image (N, 3, 256, 256) in [-1, 1]      -> boundary (N, 15, 64, 64)
    transformer  boundary (N, 15, 64, 64)               -> transformed (N, 15, 64, 64)
    decoder      boundary (N, 15, 64, 64)               -> face (N, 3, 256, 256) in [-1, 1]
    ganimation   face (N, 3, S, S) in [-1, 1], aus (N, 17) (OpenFace / 5)
                 -> output, color (N, 3, S, S), attention (N, 1, S, S)

Batch normalisation uses the running statistics unless ``--batch-stat``.
ONNX export needs the packages of requirements-deploy.txt; the NNP needs
nnabla only.
"""
import argparse
import os

from ganimation.editor import generator_param_file
from reenactgan.run_files import decoder_param_file, encoder_param_file, load_run_config, \
    transformer_param_file
from utils.context import setup_context
from utils.deploy import export_network, require_deploy_packages
from utils.user_errors import UserError, run_main

PARAMETER_FILES = {
    "encoder": encoder_param_file,
    "transformer": transformer_param_file,
    "decoder": decoder_param_file,
    "ganimation": generator_param_file,
}
NETWORK_NAMES = tuple(PARAMETER_FILES)


def get_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", choices=NETWORK_NAMES)
    parser.add_argument("run", help="the run's training_info.yaml or its folder")
    parser.add_argument("--param-file", default=None,
                        help="parameters (default: the run's newest; the encoder's best model)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--formats", nargs="+", choices=("nnp", "onnx"), default=["nnp", "onnx"])
    parser.add_argument("-o", "--out-prefix", default=None,
                        help="output path without extension (default: "
                             "<parameter file>.<network>.b<batch>)")
    parser.add_argument("--batch-stat", action="store_true",
                        help="batch statistics in batch norm, as the authors ran their models")
    parser.add_argument("--plain-onnx", action="store_true",
                        help="keep nnabla-converter's ONNX graph as it is (no BN folding into "
                             "ConvTranspose, no ConvTranspose -> Conv rewrite)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    return args


def find_param_file(network, config, param_file):
    if param_file:
        if not os.path.isfile(param_file):
            raise UserError("parameter file {} not found".format(param_file))
        return param_file
    try:
        return PARAMETER_FILES[network](config)
    except UserError:
        raise UserError("no {} parameters found in {}; pass --param-file".format(
            network, config["_run_dir"]))


def main(argv=None):
    args = get_args(argv)
    if "onnx" in args.formats:
        require_deploy_packages(need_runtime=False)
    setup_context("cpu")
    config = load_run_config(args.run)
    if args.network == "ganimation" and "data" not in config:
        raise UserError("{} is not a GANimation run (no data section)".format(args.run))
    param_file = find_param_file(args.network, config, args.param_file)
    prefix = args.out_prefix or "{}.{}.b{}".format(os.path.splitext(param_file)[0],
                                                   args.network, args.batch_size)
    written = export_network(
        args.network, config, param_file, args.batch_size,
        nnp_path=prefix + ".nnp" if "nnp" in args.formats else None,
        onnx_path=prefix + ".onnx" if "onnx" in args.formats else None,
        batch_stat=args.batch_stat, optimize=not args.plain_onnx)
    print("{} of {} (batch {}) exported:".format(args.network, param_file, args.batch_size))
    for path in written:
        print("  {}".format(path))
    return 0


if __name__ == "__main__":
    run_main(main)
