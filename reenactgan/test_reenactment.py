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
        [--video result.mp4 result.gif] [--source my_frames/ | my_clip.mp4] \
        [--backend onnxruntime]

Chain: encoder (face -> boundaries) -> transformer netG_A2B (source's
boundaries -> target's) -> decoder (boundaries -> target's face).  Writes one
picture per frame to ``reenactment_result/<src>2<trg>/<decoder exp>/result/
<i:06d>-000.png`` (256x1280: source | encoder boundary | transformed boundary |
generated face | ground-truth boundary of the source, black when unknown),
the videos asked for, and prints the frames per second of the networks.
Frames are read, run in batches and written (PNG and video) as they come, so
memory stays flat however long the source video is (an MP4 is streamed to
ffmpeg; a GIF needs its frames until it is closed, keep those short).

``--backend onnxruntime`` runs the three networks exported to ONNX (cached
next to each parameter file, exported again when the parameters change) on
onnxruntime, 6-9x faster than nnabla's CPU build on two cores (see
benchmarks/inference_bench.py); pre- and post-processing are the same for
both backends.  It needs the packages of requirements-deploy.txt.

By default batch norm uses the running statistics; ``--batch-stat`` uses the
statistics of each batch as the authors did (then results depend on the batch).
"""
import argparse
import os
import queue
import threading
import time

import nnabla as nn
import numpy as np

from reenactgan.data import denormalize_image
from reenactgan.frame_sources import batched, open_source
from reenactgan.models import DECODER_SCOPE, TRANSFORMER_A2B_SCOPE, decode_boundaries, \
    transform_boundaries
from reenactgan.run_files import build_encoder, decoder_param_file, encoder_param_file, \
    load_run_config, transformer_param_file
from utils.checkpoint import load_network_parameters
from utils.atomic_files import check_creatable_dir
from utils.boundary_heatmaps import draw_boundary_heatmaps, heatmaps_to_image
from utils.context import add_inference_arguments, setup_inference
from utils.deploy import onnx_runner
from utils.image_io import to_network_image, write_image, write_video
from utils.monitoring import progress, tile_images
from utils.run_paths import RunPaths
from utils.user_errors import UserError, check_positive, run_main


def get_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for network in ("encoder", "transformer", "decoder"):
        parser.add_argument("--{}-config".format(network), required=True,
                            help="training_info.yaml of the {} run".format(network))
        parser.add_argument("--{}-param-file".format(network), default=None,
                            help="{} parameters (default: from its run folder)".format(network))
    parser.add_argument("--src-celeb-name", default=None,
                        help="the CelebV person whose test frames drive the chain (one the "
                             "transformer was trained on); not used with --source, whose "
                             "frames go through the transformer as its source's would")
    parser.add_argument("--trg-celeb-name", required=True,
                        help="the target person (the transformer's and the decoder's)")
    parser.add_argument("--source", default=None,
                        help="a folder of face images or a video file instead of the source "
                             "person's CelebV test split; faces are detected and aligned like "
                             "CelebV frames (requirements-faces.txt), or centre-cropped")
    parser.add_argument("--no-align", action="store_true",
                        help="--source frames are already aligned 256x256 crops")
    parser.add_argument("--landmark-model", default=None,
                        help="dlib's shape_predictor_68_face_landmarks.dat (default: found)")
    parser.add_argument("--smoothing", type=float, default=None,
                        help="landmark smoothing over video frames, 0-1 (default 0.5)")
    parser.add_argument("--celebv-dir", default=None,
                        help="CelebV folder (default: the transformer's train_dir)")
    parser.add_argument("-n", "--num-test", type=int, default=None,
                        help="number of frames (default: all)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--video", nargs="+", default=[],
                        help="also write the panels as videos (.mp4 and/or .gif)")
    parser.add_argument("--fps", type=float, default=None,
                        help="frames per second of the videos (default: the --source video's, "
                             "else 25)")
    parser.add_argument("--batch-stat", action="store_true",
                        help="batch statistics in batch norm, as the authors ran their models")
    parser.add_argument("--out-dir", default="reenactment_result")
    parser.add_argument("--info", default=None, help="suffix of the result folder name")
    add_inference_arguments(parser)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.num_test is not None and args.num_test < 1:
        parser.error("-n/--num-test must be at least 1")
    for path in args.video:
        if os.path.splitext(path)[1].lower() not in (".mp4", ".gif"):
            parser.error("--video {}: use a .mp4 or .gif file name".format(path))
    check_positive(args.fps, "--fps")
    if not args.source and not args.src_celeb_name:
        parser.error("--src-celeb-name is needed unless --source gives the frames")
    if args.source and args.src_celeb_name:
        print("note: --src-celeb-name is not used with --source; the results are named after "
              "the source")
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
    images = nn.Variable((args.batch_size, 3, 256, 256))
    boundary = build_encoder(images, encoder_cfg, batch_stat=args.batch_stat)
    transformed = transform_boundaries(boundary, transformer_cfg, args.batch_stat)
    face = decode_boundaries(transformed, decoder_cfg, args.batch_stat)
    boundary.persistent = True
    transformed.persistent = True
    load_network_parameters(encoder_param_file(encoder_cfg, args.encoder_param_file),
                            encoder_cfg.get("model_name", "model"))
    load_network_parameters(transformer_param_file(transformer_cfg, args.transformer_param_file),
                            TRANSFORMER_A2B_SCOPE)
    load_network_parameters(decoder_param_file(decoder_cfg, args.decoder_param_file),
                            DECODER_SCOPE)
    return images, boundary, transformed, face


class NnablaChain:
    """The chain in nnabla: a batch of images -> (boundaries, transformed, faces)."""

    def __init__(self, args, encoder_cfg, transformer_cfg, decoder_cfg):
        self.images, self.boundary, self.transformed, self.face = build_chain(
            args, encoder_cfg, transformer_cfg, decoder_cfg)

    def __call__(self, images):
        self.images.d = images
        self.face.forward(clear_no_need_grad=True)
        return self.boundary.d.copy(), self.transformed.d.copy(), self.face.d.copy()


class OnnxChain:
    """The chain as three ONNX files on onnxruntime, called like :class:`NnablaChain`."""

    def __init__(self, args, encoder_cfg, transformer_cfg, decoder_cfg):
        stat = bool(args.batch_stat)
        self.encoder = onnx_runner(
            "encoder", encoder_cfg, encoder_param_file(encoder_cfg, args.encoder_param_file),
            args.batch_size, stat, args.threads)
        self.transformer = onnx_runner(
            "transformer", transformer_cfg,
            transformer_param_file(transformer_cfg, args.transformer_param_file),
            args.batch_size, stat, args.threads)
        self.decoder = onnx_runner(
            "decoder", decoder_cfg, decoder_param_file(decoder_cfg, args.decoder_param_file),
            args.batch_size, stat, args.threads)

    def __call__(self, images):
        boundary, = self.encoder(images)
        transformed, = self.transformer(boundary)
        face, = self.decoder(transformed)
        return boundary, transformed, face


def network_batch(batch, batch_size):
    """A batch of frames as the networks' input, padded to ``batch_size`` with its last frame.

    Only the real frames' results are kept.
    """
    stacked = np.stack([to_network_image(f.image) for f in batch])
    if len(batch) < batch_size:
        stacked = np.concatenate([stacked, np.repeat(stacked[-1:], batch_size - len(batch), 0)])
    return stacked


class _Aborted(Exception):
    """Stops a video writer whose frames will not come (the file is not kept)."""


class VideoStreams:
    """Every frame goes to each video as it is produced, one writer thread per file.

    ``write_video`` consumes an iterable; each writer reads a bounded queue,
    so at most a few frames wait in memory and the networks pause when an
    encoder falls behind.  Files are complete only if the block ends without
    an exception and at least one frame was added.
    """

    _END = object()
    _ABORT = object()

    def __init__(self, paths, fps, queue_size=4):
        self.paths, self.fps = list(paths), fps
        self.queues = [queue.Queue(queue_size) for _ in self.paths]
        self.errors = [None] * len(self.paths)
        self.threads = []
        self.count = 0

    def _frames(self, index):
        while True:
            item = self.queues[index].get()
            if item is self._END:
                return
            if item is self._ABORT:
                raise _Aborted()
            yield item

    def _write(self, index):
        try:
            write_video(self.paths[index], self._frames(index), fps=self.fps)
        except BaseException as err:  # re-raised in the main thread
            self.errors[index] = err

    def _offer(self, index, item):
        """Queue ``item`` for writer ``index``; False when that writer has stopped."""
        while self.threads[index].is_alive():
            try:
                self.queues[index].put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self):
        for index in range(len(self.paths)):
            thread = threading.Thread(target=self._write, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def add(self, frame):
        for index, path in enumerate(self.paths):
            if not self._offer(index, frame):
                raise self.errors[index] or UserError("writing {} stopped".format(path))
        self.count += 1

    def __exit__(self, exc_type, exc, traceback):
        finish = exc_type is None and self.count > 0
        for index in range(len(self.paths)):
            self._offer(index, self._END if finish else self._ABORT)
        for thread in self.threads:
            thread.join()
        if finish:
            for error in self.errors:
                if error is not None:
                    raise error
        return False


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
    encoder_cfg = load_run_config(args.encoder_config, "encoder")
    transformer_cfg = load_run_config(args.transformer_config, "transformer")
    decoder_cfg = load_run_config(args.decoder_config, "decoder")
    check_persons(args, transformer_cfg, decoder_cfg)
    setup_inference(args)
    celebv_dir = args.celebv_dir
    if not args.source and not celebv_dir:
        celebv_dir = RunPaths.of(transformer_cfg).input(transformer_cfg, "train_dir",
                                                        "--celebv-dir")
    frames = open_source(args.source, celebv_dir, args.src_celeb_name, args.num_test,
                         align=not args.no_align,
                         landmark_model=args.landmark_model, smoothing=args.smoothing)
    chain_class = NnablaChain if args.backend == "nnabla" else OnnxChain
    chain = chain_class(args, encoder_cfg, transformer_cfg, decoder_cfg)

    experiment = decoder_cfg["experiment_name"] + ("_" + args.info if args.info else "")
    label = args.src_celeb_name if not args.source else frames.label
    result_dir = os.path.join(args.out_dir, "{}2{}".format(label, args.trg_celeb_name),
                              experiment, "result")
    # Every output folder is checked before the first frame (a video that
    # cannot be written must not stop the run after some panels were written),
    # and made only by the first file written into it (a source without a
    # usable frame leaves nothing behind).
    for folder in [result_dir] + [os.path.dirname(os.path.abspath(p)) for p in args.video]:
        check_creatable_dir(folder)
    written, network_seconds = 0, 0.0
    started = time.perf_counter()
    total = len(frames) or None
    fps = args.fps or getattr(frames, "fps", None) or 25.0
    with VideoStreams(args.video, fps) as videos, \
            progress(None, total=total, desc="reenactment") as bar:
        for batch in batched(frames, args.batch_size):
            stacked = network_batch(batch, args.batch_size)
            tick = time.perf_counter()
            boundary, transformed, face = chain(stacked)
            network_seconds += time.perf_counter() - tick
            for k, frame in enumerate(batch):
                panel = five_panels(frame, boundary[k], transformed[k], face[k],
                                    transformer_cfg["preprocess"])
                write_image(os.path.join(result_dir, "{:06d}-000.png".format(written)), panel)
                videos.add(panel)
                written += 1
            bar.update(len(batch))
        if not written:
            why = ", ".join("{} {}".format(count, reason)
                            for reason, count in sorted(frames.skip_reasons.items()))
            raise UserError("no source frame could be used ({})".format(
                why or "the source has no frame"))
    elapsed = time.perf_counter() - started
    print("{} frames: {:.2f} frames/s through the networks ({}, batch {}), {:.2f} frames/s "
          "overall".format(written, written / max(network_seconds, 1e-9), args.backend,
                           args.batch_size, written / max(elapsed, 1e-9)))
    if frames.skipped:
        print("skipped {} source frames ({})".format(frames.skipped, ", ".join(
            "{} {}".format(n, reason) for reason, n in sorted(frames.skip_reasons.items()))))
    print("panels written to {}".format(result_dir))
    for path in args.video:
        print("video written to {}".format(path))


if __name__ == "__main__":
    run_main(main)
