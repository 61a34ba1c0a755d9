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
"""Reenactment: the source person's frames -> the target person's face.

    python reenactgan/test_reenactment.py \
        --encoder-config tmp.monitor/encoder/<exp>/training_info.yaml \
        --transformer-config tmp.monitor/transformer/<src>2<trg>/<exp>/training_info.yaml \
        --decoder-config tmp.monitor/decoder/<trg>/<exp>/training_info.yaml \
        --src-celeb-name <src> --trg-celeb-name <trg> [-n 100] [--batch-size 8] \
        [--video result.mp4 result.gif] [--source my_frames/ | my_clip.mp4]

Chain: encoder (face -> boundaries) -> transformer netG_A2B (source's
boundaries -> target's) -> decoder (boundaries -> target's face).  Writes one
picture per frame to ``reenactment_result/<src>2<trg>/<decoder exp>/result/
<i:06d>-000.png`` (256x1280: source | encoder boundary | transformed boundary |
generated face | ground-truth boundary of the source, black when unknown),
the videos asked for, and prints the frames per second of the networks.

By default batch norm uses the running statistics; ``--batch-stat`` uses the
statistics of each batch as the authors did (then results depend on the batch).
"""
import argparse
import os
import sys
import time

import nnabla as nn
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from reenactgan.data import denormalize_image, normalize_image  # noqa: E402
from reenactgan.frame_sources import batched, open_source  # noqa: E402
from reenactgan.models import netG_decoder, netG_transformer  # noqa: E402
from reenactgan.run_files import build_encoder, decoder_param_file, encoder_param_file, \
    load_into_scope, load_run_config, transformer_param_file  # noqa: E402
from utils.boundary_heatmaps import draw_boundary_heatmaps, heatmaps_to_image  # noqa: E402
from utils.context import setup_context  # noqa: E402
from utils.image_io import read_rgb, write_image, write_video  # noqa: E402
from utils.monitoring import progress, tile_images  # noqa: E402
from utils.user_errors import UserError, run_main  # noqa: E402


def get_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for network in ("encoder", "transformer", "decoder"):
        parser.add_argument("--{}-config".format(network), required=True,
                            help="training_info.yaml of the {} run".format(network))
        parser.add_argument("--{}-param-file".format(network), default=None,
                            help="{} parameters (default: from its run folder)".format(network))
    parser.add_argument("--src-celeb-name", required=True,
                        help="the source person (must be a source of the transformer)")
    parser.add_argument("--trg-celeb-name", required=True,
                        help="the target person (the transformer's and the decoder's)")
    parser.add_argument("--source", default=None,
                        help="a folder of face images or a video file instead of the source "
                             "person's CelebV test split")
    parser.add_argument("--celebv-dir", default=None,
                        help="CelebV folder (default: the transformer's train_dir)")
    parser.add_argument("-n", "--num-test", type=int, default=None,
                        help="number of frames (default: all)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--video", nargs="+", default=[],
                        help="also write the panels as videos (.mp4 and/or .gif)")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--batch-stat", action="store_true",
                        help="batch statistics in batch norm, as the authors ran their models")
    parser.add_argument("--out-dir", default="reenactment_result")
    parser.add_argument("--info", default=None, help="suffix of the result folder name")
    parser.add_argument("--context", default="cudnn")
    parser.add_argument("--device-id", type=int, default=0)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.num_test is not None and args.num_test < 1:
        parser.error("-n/--num-test must be at least 1")
    for path in args.video:
        if os.path.splitext(path)[1].lower() not in (".mp4", ".gif"):
            parser.error("--video {}: use a .mp4 or .gif file name".format(path))
    return args


def check_persons(args, transformer, decoder):
    sources = [transformer["src_celeb_name"]] + list(transformer.get("extra_src_celeb_names", []))
    if args.src_celeb_name not in sources and not args.source:
        raise UserError("--src-celeb-name {} is not a source of the transformer (trained on "
                        "{}); use that transformer's source or train one for {}".format(
                            args.src_celeb_name, ", ".join(sources), args.src_celeb_name))
    for what, config in (("transformer", transformer), ("decoder", decoder)):
        if config["trg_celeb_name"] != args.trg_celeb_name:
            raise UserError("--trg-celeb-name {} differs from the {}'s target {}".format(
                args.trg_celeb_name, what, config["trg_celeb_name"]))


def build_chain(args, encoder_cfg, transformer_cfg, decoder_cfg):
    """The three networks in one graph; returns (input, boundary, transformed, face)."""
    stat = True if args.batch_stat else None
    images = nn.Variable((args.batch_size, 3, 256, 256))
    boundary = build_encoder(images, encoder_cfg, batch_stat=bool(args.batch_stat))
    with nn.parameter_scope("netG_transformer"), nn.parameter_scope("netG_A2B"):
        transformed = netG_transformer(boundary, ngf=transformer_cfg["model"]["ngf"],
                                       n_blocks=transformer_cfg["model"]["n_blocks"], test=True,
                                       batch_stat=stat)
    with nn.parameter_scope("netG_decoder"):
        face = netG_decoder(transformed, ngf=decoder_cfg["model"]["ngf"], test=True,
                            batch_stat=stat)
    boundary.persistent = True
    transformed.persistent = True
    load_into_scope(encoder_param_file(encoder_cfg, args.encoder_param_file),
                    encoder_cfg.get("model_name", "model"))
    load_into_scope(transformer_param_file(transformer_cfg, args.transformer_param_file),
                    "netG_transformer/netG_A2B")
    load_into_scope(decoder_param_file(decoder_cfg, args.decoder_param_file), "netG_decoder")
    return images, boundary, transformed, face


def five_panels(frame, boundary, transformed, face, preprocess):
    if frame.landmarks is not None:
        truth = heatmaps_to_image(draw_boundary_heatmaps(
            frame.landmarks, (256, 256), out_size=(256, 256),
            line_thickness=preprocess.get("line_thickness", 3),
            gaussian_kernel=tuple(preprocess.get("gaussian_kernel", (5, 5))),
            gaussian_sigma=preprocess.get("gaussian_sigma", 3),
            port_compatible=preprocess.get("port_compatible_boundaries", False)))
    else:
        truth = np.zeros((256, 256, 3), np.uint8)
    generated = np.rint(denormalize_image(face).transpose(1, 2, 0) * 255).astype(np.uint8)
    return tile_images([frame.image, heatmaps_to_image(boundary, (256, 256)),
                        heatmaps_to_image(transformed, (256, 256)), generated, truth])


def main(argv=None):
    args = get_args(argv)
    nn.clear_parameters()  # a fresh graph, also when main() runs twice in a process
    encoder_cfg = load_run_config(args.encoder_config)
    transformer_cfg = load_run_config(args.transformer_config)
    decoder_cfg = load_run_config(args.decoder_config)
    check_persons(args, transformer_cfg, decoder_cfg)
    setup_context(args.context, args.device_id)
    frames = open_source(args.source, args.celebv_dir or transformer_cfg["train_dir"],
                         args.src_celeb_name, args.num_test)
    images, boundary, transformed, face = build_chain(args, encoder_cfg, transformer_cfg,
                                                      decoder_cfg)

    experiment = decoder_cfg["experiment_name"] + ("_" + args.info if args.info else "")
    label = args.src_celeb_name if not args.source else frames.label
    result_dir = os.path.join(args.out_dir, "{}2{}".format(label, args.trg_celeb_name),
                              experiment, "result")
    written, network_seconds = [], 0.0
    started = time.perf_counter()
    total = len(frames) or None
    with progress(None, total=total, desc="reenactment") as bar:
        for batch in batched(frames, args.batch_size):
            stacked = np.stack([normalize_image(f.image) for f in batch])
            if len(batch) < args.batch_size:  # pad the last batch; only real frames are kept
                stacked = np.concatenate(
                    [stacked, np.repeat(stacked[-1:], args.batch_size - len(batch), 0)])
            images.d = stacked
            tick = time.perf_counter()
            face.forward(clear_no_need_grad=True)
            network_seconds += time.perf_counter() - tick
            for k, frame in enumerate(batch):
                path = os.path.join(result_dir, "{:06d}-000.png".format(len(written)))
                write_image(path, five_panels(frame, boundary.d[k], transformed.d[k], face.d[k],
                                              transformer_cfg["preprocess"]))
                written.append(path)
            bar.update(len(batch))
    if not written:
        raise UserError("no readable source frame")
    elapsed = time.perf_counter() - started
    print("{} frames: {:.2f} frames/s through the networks (batch {}), {:.2f} frames/s overall"
          .format(len(written), len(written) / max(network_seconds, 1e-9), args.batch_size,
                  len(written) / max(elapsed, 1e-9)))
    if frames.skipped:
        print("skipped {} unreadable source frames".format(frames.skipped))
    print("panels written to {}".format(result_dir))
    for path in args.video:
        write_video(path, (read_rgb(p) for p in written), fps=args.fps)
        print("video written to {}".format(path))


if __name__ == "__main__":
    run_main(main)
