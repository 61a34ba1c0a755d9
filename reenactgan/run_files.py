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
"""Find a training run's config and parameter files, and rebuild its networks.

Test scripts take a ``training_info.yaml`` and optionally ``--param-file``;
without it, the newest matching ``.h5`` of the run folder is used (the best
model for the encoder when there is one).
"""
import collections
import hashlib
import os

import nnabla as nn
import nnabla.functions as F
import numpy as np

from config.config_decoder import config as DECODER_DEFAULTS
from config.config_encoder import config as ENCODER_DEFAULTS
from config.config_transformer import config as TRANSFORMER_DEFAULTS
from reenactgan.models import DECODER_SCOPE, NUM_BOUNDARIES, TRANSFORMER_A2B_SCOPE, \
    decode_boundaries, stacked_hourglass_net, transform_boundaries
from utils.checkpoint import load_network_parameters, require_final_parameters
from utils.config import TRAINING_INFO_NAME, read_training_info
from utils.deploy import declare_network
from utils.image_io import write_image
from utils.monitoring import tile_images
from utils.run_paths import RunPaths, load_run
from utils.user_errors import UserError


RUN_DEFAULTS = {"encoder": ENCODER_DEFAULTS, "transformer": TRANSFORMER_DEFAULTS,
                "decoder": DECODER_DEFAULTS}


def run_folder(config, kind):
    """Where the training script of ``kind`` writes a run of ``config``:
    ``logdir/encoder/<exp>``, ``logdir/transformer/<src>2<trg>/<exp>``, ``logdir/decoder/<trg>/<exp>``."""
    middle = {"encoder": [],
              "transformer": ["{}2{}".format(config.get("src_celeb_name"),
                                             config.get("trg_celeb_name"))],
              "decoder": [str(config.get("trg_celeb_name"))]}[kind]
    return os.path.join(config["logdir"], kind, *(middle + [str(config["experiment_name"])]))


def load_run_config(path, kind=None):
    """A run's config (:func:`utils.run_paths.load_run`) of ``kind`` (encoder, transformer
    or decoder); without ``kind``, the file as it is, with ``_run_dir``."""
    if kind is not None:
        return load_run(path, kind, RUN_DEFAULTS[kind], lambda config: run_folder(config, kind))
    if os.path.isdir(path):
        path = os.path.join(path, TRAINING_INFO_NAME)
    config = read_training_info(path)
    config["_run_dir"] = os.path.dirname(os.path.abspath(path))
    return config


_PARAM_OPTIONS = "the file with --param-file (--{}-param-file in the chain scripts)"


def encoder_param_file(config, param_file=None):
    if param_file:
        return param_file
    best = os.path.join(config["_run_dir"], "model", "best_model.h5")
    if os.path.isfile(best):
        return best
    return require_final_parameters(config["_run_dir"], "model_epoch-*.h5", "encoder parameters",
                                    _PARAM_OPTIONS.format("encoder"), "model")


def transformer_param_file(config, param_file=None):
    return param_file or require_final_parameters(
        config["_run_dir"], "netG_transformer_A2B_*.h5", "transformer parameters",
        _PARAM_OPTIONS.format("transformer"))


def decoder_param_file(config, param_file=None):
    return param_file or require_final_parameters(
        config["_run_dir"], "netG_decoder_*.h5", "decoder parameters",
        _PARAM_OPTIONS.format("decoder"))


def encoder_stacks(images, config, batch_stat=False, fix_parameters=True):
    """The encoder network of a run on ``images`` (N, 3, 256, 256): every stack's raw output."""
    model = config["model"]
    with nn.parameter_scope(config.get("model_name", "model")):
        return stacked_hourglass_net(images, planes=model["planes"], output_nc=model["output_nc"],
                                     num_stacks=model["num_stacks"],
                                     hourglass_depth=model.get("hourglass_depth", 4),
                                     test=True, batch_stat=batch_stat,
                                     fix_parameters=fix_parameters)


def build_encoder(images, config, batch_stat=False, fix_parameters=True):
    """The boundary a run's encoder reads from ``images``: the last stack, clipped to [0, 1].

    [0, 1] is the range of a drawn heatmap.  The network is unbounded and puts
    small values of either sign on the background (about -0.06 to 0.04 here);
    the transformer ends in a sigmoid and cannot make the negative ones, so its
    discriminators learned "negative background = real" within a few hundred
    iterations and the generator never caught up (measured on the demo: D loss
    0.004-0.009, fake_B noise after 2000 iterations; clipped, D stays at
    0.3-0.6 and fake_B follows the face).  The decoder decodes the clipped maps
    exactly as well (27.86 dB both ways).
    """
    return F.clip_by_value(encoder_stacks(images, config, batch_stat, fix_parameters)[-1],
                           0.0, 1.0)


def load_encoder(encoder_config_path, param_file=None):
    """Read an encoder run's config, load its parameters (after build_encoder)."""
    config = load_run_config(encoder_config_path, "encoder")
    return config, encoder_param_file(config, param_file)


def _encoder_network(config, batch_size, batch_stat):
    image = nn.Variable((batch_size, 3, 256, 256))
    boundary = build_encoder(image, config, batch_stat=bool(batch_stat))
    return (collections.OrderedDict(image=image), collections.OrderedDict(boundary=boundary),
            config.get("model_name", "model"))


def _transformer_network(config, batch_size, batch_stat):
    boundary = nn.Variable((batch_size, NUM_BOUNDARIES, 64, 64))
    transformed = transform_boundaries(boundary, config, batch_stat)
    return (collections.OrderedDict(boundary=boundary),
            collections.OrderedDict(transformed=transformed), TRANSFORMER_A2B_SCOPE)


def _decoder_network(config, batch_size, batch_stat):
    boundary = nn.Variable((batch_size, NUM_BOUNDARIES, 64, 64))
    face = decode_boundaries(boundary, config, batch_stat)
    return (collections.OrderedDict(boundary=boundary), collections.OrderedDict(face=face),
            DECODER_SCOPE)


# What utils.deploy runs and exports of a ReenactGAN run, by network.
declare_network("encoder", _encoder_network)
declare_network("transformer", _transformer_network)
declare_network("decoder", _decoder_network)


class EncoderBoundaries:
    """A trained encoder as a function: images (N, 3, 256, 256) in [-1, 1] -> (N, 15, 64, 64).

    Built from the ``encoder`` section of a transformer/decoder config
    (``config``: the encoder run's training_info.yaml, ``param_path``,
    ``batch_stat``, ``cache_size``) or from explicit arguments.

    The encoder is fixed while the transformer or decoder trains, so without
    augmentation every epoch would encode the same frames again.  With
    ``cache_size`` > 0 the boundaries of up to that many distinct images
    (61 KB each) are kept, keyed by a hash of the image, and a batch whose
    images are all known skips the forward pass.  The results are the same
    bit for bit.  Batch statistics make a sample's boundary depend on the
    rest of its batch, so they disable the cache.
    """

    def __init__(self, encoder_config_path, param_path=None, batch_size=1, batch_stat=False,
                 cache_size=0):
        if not encoder_config_path:
            raise UserError("boundary_source 'encoder' needs encoder.config (the encoder run's "
                            "training_info.yaml)")
        config, param_file = load_encoder(encoder_config_path, param_path)
        self.images = nn.Variable((batch_size, 3, 256, 256))
        self.output = build_encoder(self.images, config, batch_stat=batch_stat)
        load_network_parameters(param_file, config.get("model_name", "model"))
        self.param_file = param_file
        self.cache_size = 0 if batch_stat else max(0, int(cache_size or 0))
        self.cache = collections.OrderedDict()

    @classmethod
    def from_section(cls, section, batch_size):
        return cls(section.get("config"), section.get("param_path"), batch_size,
                   section.get("batch_stat", False), section.get("cache_size", 0))

    def __call__(self, images):
        if not self.cache_size:
            return self._encode(images)
        images = np.ascontiguousarray(images, dtype=np.float32)
        keys = [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images]
        if all(key in self.cache for key in keys):
            for key in keys:
                self.cache.move_to_end(key)
            return np.stack([self.cache[key] for key in keys])
        boundaries = self._encode(images)
        for key, boundary in zip(keys, boundaries):
            self.cache[key] = boundary
            self.cache.move_to_end(key)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return boundaries

    def _encode(self, images):
        self.images.d = images
        self.output.forward(clear_buffer=True)
        return self.output.d.copy()


class RunBoundaries:
    """The boundaries a transformer or decoder run learns from and is tested on.

    ``boundary_source: drawn`` reads the CelebV heatmap files; ``encoder``
    runs the encoder of the config's ``encoder`` section on the faces.
    ``outputs`` is what the CelebVSource must yield (the face first when
    ``with_image``, then ``extra`` drawn maps), and calling the object on a
    batch of those gives the (N, 15, h, w) boundaries.
    """

    def __init__(self, config, batch_size, with_image=False, extra=()):
        self.drawn = check_boundary_source(config) == "drawn"
        if self.drawn:
            self.encoder = None
            self.outputs = ("image",) * with_image + ("heatmap",) + tuple(extra)
        else:
            self.encoder = EncoderBoundaries.from_section(config["encoder"], batch_size)
            self.outputs = ("image",)
        self._heatmap = int(with_image)

    def __call__(self, batch):
        return batch[self._heatmap] if self.drawn else self.encoder(batch[0])


def check_boundary_source(config):
    if config["boundary_source"] not in ("drawn", "encoder"):
        raise UserError("boundary_source must be 'drawn' or 'encoder', got '{}'".format(
            config["boundary_source"]))
    return config["boundary_source"]


# --- shared by the test scripts ------------------------------------------------

def add_test_arguments(parser, what):
    parser.add_argument("config", help="the run's training_info.yaml (or its folder)")
    parser.add_argument("--param-file", default=None,
                        help="{} parameters (default: the newest of the run)".format(what))
    parser.add_argument("-n", "--num-test", type=int, default=None,
                        help="number of test samples (default: all)")
    parser.add_argument("--batch-stat", action="store_true",
                        help="batch statistics in batch norm, as the authors ran their models")
    parser.add_argument("--data-dir", default=None,
                        help="the CelebV folder (default: the run's train_dir)")
    parser.add_argument("--encoder-config", default=None,
                        help="the encoder run giving the boundaries (default: the run's "
                             "encoder.config)")
    parser.add_argument("--out-dir", default=None,
                        help="folder for the results (default: under the run's test.logdir)")
    parser.add_argument("--context", default="cudnn")
    parser.add_argument("--device-id", type=int, default=0)
    return parser


def resolve_test_paths(config, args, *result_path):
    """Point ``config`` at the test data and encoder run; return the results folder.

    The options win; otherwise the run's recorded paths are used, found again
    when the run folder was moved (:class:`RunPaths`); the results folder is
    ``test.logdir/<result_path...>``.
    """
    paths = RunPaths.of(config)
    config["train_dir"] = args.data_dir or paths.input(config, "train_dir", "--data-dir")
    if check_boundary_source(config) == "encoder":
        config["encoder"]["config"] = args.encoder_config or \
            paths.input(config, "encoder.config", "--encoder-config")
    return args.out_dir or os.path.join(paths.output(config, "test.logdir"), *result_path)


def count_to_run(requested, available, what):
    if requested is None:
        return available
    if requested < 1:
        raise UserError("-n/--num-test must be at least 1")
    if requested > available:
        raise UserError("-n {} asked, but {} has only {} test frames".format(
            requested, what, available))
    return requested


class ResultStrips:
    """A test script's result images, numbered by result so that a skipped frame
    leaves no gap, and the closing line of the run."""

    def __init__(self, out_dir, param_file):
        self.out_dir, self.param_file, self.written = out_dir, param_file, 0

    def write(self, *cells):
        write_image(os.path.join(self.out_dir, "{:06d}.png".format(self.written)),
                    tile_images(list(cells)))
        self.written += 1

    def finish(self, skips, what):
        skips.finish(what, self.written)
        print("{} results of {} written to {}".format(self.written, self.param_file,
                                                      self.out_dir))
