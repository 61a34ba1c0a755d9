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
"""Measure trained ReenactGAN networks on held-out frames.

    python reenactgan/evaluate.py \
        --encoder-config E/training_info.yaml --transformer-config T/training_info.yaml \
        --decoder-config D/training_info.yaml --src-celeb-name A --trg-celeb-name B \
        [--paired] [-n 50] [--json metrics.json]

* encoder: mean boundary distance (pixels of the 64x64 maps) between its
  predictions and the boundaries drawn from the landmarks, on the held-out
  split of its own data set (WFLW test), next to a baseline that always
  predicts the mean training map; the same on the source person's test
  frames (there the mean map of that person is a strong baseline, since a
  person's aligned frames barely move);
* decoder: PSNR and SSIM of the target's test faces decoded from their own
  (drawn) boundaries;
* reenactment (``--paired``: frame k of the target shows frame k's expression
  and pose of the source, as in the synthetic data sets or a synchronised
  recording): PSNR and SSIM of the generated target frames against the real
  ones, next to two baselines — the chain without the transformer (the
  source's boundaries straight into the target's decoder) and the target's
  mean training face — and the boundary distance between the encoder's
  reading of the generated frames (and of the baselines') and the target's
  true boundaries;
* transformer (``--paired``): the boundary distance between its translation
  of the source's boundaries (those it was trained on: the encoder's or the
  drawn ones) and the target's true boundaries, next to the distance of the
  untranslated source boundaries.

``--panels DIR`` writes one labelled picture per reenacted frame (source,
truth, generated, without transformer, mean face, then the boundaries).

Batch norm uses the running averages (``--batch-stat`` for batch statistics).
"""
import argparse
import json
import os

import nnabla as nn
import numpy as np

from reenactgan.data import CelebVSource, HeatmapRenderer, WFLWSource
from reenactgan.metrics import boundary_distance
from reenactgan.models import DECODER_SCOPE, TRANSFORMER_A2B_SCOPE, decode_boundaries, \
    transform_boundaries
from reenactgan.run_files import build_encoder, decoder_param_file, encoder_param_file, \
    load_run_config, transformer_param_file
from utils.checkpoint import load_network_parameters
from utils.atomic_files import atomic_write_text, ensure_writable_dir
from utils.boundary_heatmaps import heatmaps_to_image
from utils.context import setup_context
from utils.image_io import to_uint8_image, write_image
from utils.image_metrics import network_image_scores
from utils.monitoring import labelled_row, progress
from utils.run_paths import RunPaths
from utils.user_errors import UserError, run_main


class Networks:
    """The three networks as numpy functions on single samples (batch 1)."""

    def __init__(self, encoder_cfg, transformer_cfg, decoder_cfg, param_files, batch_stat=False):
        self.face = nn.Variable((1, 3, 256, 256))
        self.boundary = build_encoder(self.face, encoder_cfg, batch_stat=batch_stat)
        self.transformer_in = nn.Variable((1, 15, 64, 64))
        self.decoder_in = nn.Variable((1, 15, 64, 64))
        self.transformed = None
        if transformer_cfg is not None:
            self.transformed = transform_boundaries(self.transformer_in, transformer_cfg,
                                                    batch_stat)
            load_network_parameters(param_files["transformer"], TRANSFORMER_A2B_SCOPE)
        self.decoded = decode_boundaries(self.decoder_in, decoder_cfg, batch_stat)
        load_network_parameters(param_files["encoder"], encoder_cfg.get("model_name", "model"))
        load_network_parameters(param_files["decoder"], DECODER_SCOPE)

    def encode(self, image):
        self.face.d = image[None]
        self.boundary.forward(clear_buffer=True)
        return self.boundary.d[0].copy()

    def transform(self, boundary):
        self.transformer_in.d = boundary[None]
        self.transformed.forward(clear_buffer=True)
        return self.transformed.d[0].copy()

    def decode(self, boundary):
        self.decoder_in.d = boundary[None]
        self.decoded.forward(clear_buffer=True)
        return self.decoded.d[0].copy()


def mean_training_heatmap(celebv_dir, persons, preprocess, limit=200):
    """The average drawn boundary map of the persons' training frames (a baseline)."""
    total, count = 0.0, 0
    for person in persons:
        source = CelebVSource(celebv_dir, person, "train", preprocess, ("heatmap",))
        step = max(1, len(source) // limit)
        for index in range(0, len(source), step):
            total = total + source.get(index)[0]
            count += 1
    return total / count


def evaluate_encoder_on_wflw(networks, data_dir, preprocess, limit=None):
    """(encoder distance, mean-map baseline distance) on the WFLW test split."""
    train = WFLWSource(data_dir, "train", preprocess)
    test = WFLWSource(data_dir, "test", preprocess)
    mean_map = np.mean([train.get(i)[1] for i in range(0, len(train),
                                                        max(1, len(train) // 200))], axis=0)
    count = min(len(test), limit or len(test))
    model, baseline = [], []
    for i in progress(range(count), total=count, desc="encoder on WFLW"):
        image, truth = test.get(i)
        model.append(boundary_distance(networks.encode(image), truth))
        baseline.append(boundary_distance(mean_map, truth))
    return summarise(model), summarise(baseline), count


def mean_training_face(celebv_dir, person, preprocess, limit=200):
    source = CelebVSource(celebv_dir, person, "train", preprocess, ("image",))
    step = max(1, len(source) // limit)
    faces = [source.get(index)[0] for index in range(0, len(source), step)]
    return np.mean(faces, axis=0)


def summarise(values):
    return float(np.mean(values)) if values else float("nan")


def evaluate(networks, transformer_cfg, celebv_dir, src, trg, paired, num_frames=None,
             on_frame=None, wflw_dir=None, decoder_cfg=None):
    """All metrics as a dict; ``on_frame(index, panels)`` sees each reenacted frame."""
    preprocess = transformer_cfg["preprocess"] if transformer_cfg else {}
    render = HeatmapRenderer(preprocess)
    source = CelebVSource(celebv_dir, src, "test", preprocess, ("image", "landmarks"))
    target = CelebVSource(celebv_dir, trg, "test", preprocess, ("image", "landmarks"))
    count = min(len(source), num_frames or len(source))
    mean_map = mean_training_heatmap(celebv_dir, [src], preprocess)
    mean_face = mean_training_face(celebv_dir, trg, preprocess)
    target_index = {name: i for i, name in enumerate(target.names)}

    scores = {key: [] for key in ("encoder", "encoder_baseline", "decoder_psnr", "decoder_ssim",
                                  "psnr", "ssim", "no_transformer_psnr", "no_transformer_ssim",
                                  "mean_face_psnr", "mean_face_ssim", "boundary",
                                  "no_transformer_boundary", "mean_face_boundary",
                                  "transformer", "transformer_baseline")}
    source_boundaries = []  # the encoder's reading of each source frame, reused below
    for i in progress(range(count), total=count, desc="evaluation"):
        image, landmarks = source.get(i)
        truth = render(landmarks)
        predicted = networks.encode(image)
        source_boundaries.append(predicted)
        scores["encoder"].append(boundary_distance(predicted, truth))
        scores["encoder_baseline"].append(boundary_distance(mean_map, truth))
    # The decoder is measured on the boundaries it was trained on.
    decoder_boundaries = (decoder_cfg or {}).get("boundary_source", "drawn")
    for i in range(min(len(target), count)):
        image, landmarks = target.get(i)
        boundary = networks.encode(image) if decoder_boundaries == "encoder" else render(landmarks)
        face = networks.decode(boundary)
        p, s = network_image_scores(face, image)
        scores["decoder_psnr"].append(p)
        scores["decoder_ssim"].append(s)
    if paired and networks.transformed is not None:
        # The transformer is measured on the boundaries it was trained on: the
        # encoder's reading of the source frames, or the drawn ones.
        transformer_boundaries = (transformer_cfg or {}).get("boundary_source", "drawn")
        mean_face_boundary = networks.encode(mean_face)  # the same every frame
        for i in range(count):
            name = source.names[i]
            if name not in target_index:
                continue
            image, source_landmarks = source.get(i)
            truth_image, truth_landmarks = target.get(target_index[name])
            drawn_target = render(truth_landmarks)
            boundary = source_boundaries[i]
            transformed = networks.transform(boundary)
            if transformer_boundaries == "encoder":
                transformer_input, transformer_output = boundary, transformed
            else:
                transformer_input = render(source_landmarks)
                transformer_output = networks.transform(transformer_input)
            # How much closer to the target's true boundary than its input it gets.
            scores["transformer"].append(boundary_distance(transformer_output, drawn_target))
            scores["transformer_baseline"].append(boundary_distance(transformer_input,
                                                                    drawn_target))
            generated = networks.decode(transformed)
            without = networks.decode(boundary)
            # Where each face's features are, read by the encoder.
            read = {"": networks.encode(generated), "no_transformer_": networks.encode(without),
                    "mean_face_": mean_face_boundary}
            for key, candidate in (("", generated), ("no_transformer_", without),
                                   ("mean_face_", mean_face)):
                p, s = network_image_scores(candidate, truth_image)
                scores[key + "psnr"].append(p)
                scores[key + "ssim"].append(s)
                scores[key + "boundary"].append(boundary_distance(read[key], drawn_target))
            if on_frame is not None:
                on_frame(i, {"source": image, "truth": truth_image, "generated": generated,
                             "without_transformer": without, "mean_face": mean_face,
                             "source_boundary": boundary, "transformed": transformed,
                             "truth_boundary": drawn_target})
    metrics = {
        "encoder_on_source_frames": {"boundary_distance_px": summarise(scores["encoder"]),
                                     "mean_map_baseline_px": summarise(scores["encoder_baseline"]),
                                     "frames": count},
        "decoder": {"psnr": summarise(scores["decoder_psnr"]),
                    "ssim": summarise(scores["decoder_ssim"]),
                    "boundaries": decoder_boundaries,
                    "frames": len(scores["decoder_psnr"])},
    }
    if wflw_dir:
        distance, baseline, faces = evaluate_encoder_on_wflw(networks, wflw_dir, preprocess,
                                                            num_frames)
        metrics["encoder"] = {"boundary_distance_px": distance,
                              "mean_map_baseline_px": baseline, "faces": faces,
                              "data": "WFLW test split"}
    if scores["psnr"]:
        metrics["reenactment"] = {
            "psnr": summarise(scores["psnr"]), "ssim": summarise(scores["ssim"]),
            "no_transformer_psnr": summarise(scores["no_transformer_psnr"]),
            "no_transformer_ssim": summarise(scores["no_transformer_ssim"]),
            "mean_face_psnr": summarise(scores["mean_face_psnr"]),
            "mean_face_ssim": summarise(scores["mean_face_ssim"]),
            "boundary_distance_px": summarise(scores["boundary"]),
            "no_transformer_boundary_distance_px": summarise(scores["no_transformer_boundary"]),
            "mean_face_boundary_distance_px": summarise(scores["mean_face_boundary"]),
            "frames": len(scores["psnr"])}
        metrics["transformer"] = {
            "boundary_distance_px": summarise(scores["transformer"]),
            "source_boundary_baseline_px": summarise(scores["transformer_baseline"]),
            "boundaries": transformer_boundaries,
            "frames": len(scores["transformer"])}
    return metrics


PANEL_LABELS = (("source", "source (A)"), ("truth", "truth: B with A's expression"),
                ("generated", "generated (full chain)"),
                ("without_transformer", "without transformer"),
                ("mean_face", "B's mean face"), ("source_boundary", "A's boundary (encoder)"),
                ("transformed", "transformed boundary"), ("truth_boundary", "B's true boundary"))


def write_frame_panel(folder, index, panels, height=160):
    """One labelled row per frame: the faces, then the boundaries."""
    pictures = []
    for key, _ in PANEL_LABELS:
        value = panels[key]
        if value.shape[0] == 3:
            pictures.append(to_uint8_image(value))
        else:
            pictures.append(heatmaps_to_image(value))
    write_image(os.path.join(folder, "frame_{:03d}.png".format(index)),
                labelled_row(pictures, [label for _, label in PANEL_LABELS], height=height))


def panel_writer(folder, count, every=5):
    """An ``on_frame`` callback writing the panels of ``count`` frames, ``every`` apart
    (frames spread over the test sequence show more than its first second)."""
    def on_frame(index, panels):
        if index % every == 0 and index // every < count:
            write_frame_panel(folder, index, panels)
    return on_frame


def get_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for network in ("encoder", "transformer", "decoder"):
        parser.add_argument("--{}-config".format(network), required=network != "transformer",
                            help="training_info.yaml of the {} run".format(network))
        parser.add_argument("--{}-param-file".format(network), default=None)
    parser.add_argument("--src-celeb-name", required=True)
    parser.add_argument("--trg-celeb-name", required=True)
    parser.add_argument("--celebv-dir", default=None,
                        help="CelebV folder (default: the decoder's train_dir)")
    parser.add_argument("--wflw-dir", default=None,
                        help="WFLW caches for the encoder's held-out split (default: the "
                             "encoder's path.data_dir; 'none' to skip)")
    parser.add_argument("--paired", action="store_true",
                        help="frame k of the target is the ground truth of the source's frame k")
    parser.add_argument("-n", "--num-frames", type=int, default=None)
    parser.add_argument("--batch-stat", action="store_true")
    parser.add_argument("--json", default=None, help="also write the metrics to this file")
    parser.add_argument("--panels", default=None,
                        help="folder for a labelled picture of each of the first reenacted frames")
    parser.add_argument("--num-panels", type=int, default=4)
    parser.add_argument("--context", default="cudnn")
    return parser.parse_args(argv)


def load_networks(args):
    encoder_cfg = load_run_config(args.encoder_config, "encoder")
    decoder_cfg = load_run_config(args.decoder_config, "decoder")
    transformer_cfg = (load_run_config(args.transformer_config, "transformer")
                       if args.transformer_config else None)
    if decoder_cfg["trg_celeb_name"] != args.trg_celeb_name:
        raise UserError("the decoder was trained for {}, not {}".format(
            decoder_cfg["trg_celeb_name"], args.trg_celeb_name))
    files = {"encoder": encoder_param_file(encoder_cfg, args.encoder_param_file),
             "decoder": decoder_param_file(decoder_cfg, args.decoder_param_file)}
    if transformer_cfg is not None:
        files["transformer"] = transformer_param_file(transformer_cfg,
                                                      args.transformer_param_file)
    networks = Networks(encoder_cfg, transformer_cfg, decoder_cfg, files, args.batch_stat)
    return networks, transformer_cfg or decoder_cfg, decoder_cfg, encoder_cfg


def main(argv=None):
    args = get_args(argv)
    nn.clear_parameters()
    setup_context(args.context)
    networks, transformer_cfg, decoder_cfg, encoder_cfg = load_networks(args)
    wflw_dir = args.wflw_dir or RunPaths.of(encoder_cfg).input(
        encoder_cfg, "path.data_dir", "--wflw-dir (or 'none')")
    celebv_dir = args.celebv_dir or RunPaths.of(decoder_cfg).input(
        decoder_cfg, "train_dir", "--celebv-dir")
    on_frame = None
    if args.panels:
        ensure_writable_dir(args.panels)
        on_frame = panel_writer(args.panels, args.num_panels)
    metrics = evaluate(networks, transformer_cfg, celebv_dir,
                       args.src_celeb_name, args.trg_celeb_name, args.paired, args.num_frames,
                       on_frame=on_frame, wflw_dir=None if wflw_dir == "none" else wflw_dir,
                       decoder_cfg=decoder_cfg)
    text = json.dumps(metrics, indent=2, sort_keys=True)
    print(text)
    if args.json:
        atomic_write_text(args.json, text + "\n")
    return metrics


if __name__ == "__main__":
    run_main(main)
