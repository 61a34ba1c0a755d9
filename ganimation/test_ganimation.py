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
"""Edit facial expressions with a trained GANimation generator.

    # expression transfer between test images (default)
    python ganimation/test_ganimation.py tmp.monitor/ganimation/<exp> [-n 10] [--as-gif]
    # explicit AUs, raw OpenFace 0-5 scale; the other AUs keep the source's values
    python ganimation/test_ganimation.py <run> --aus AU12=3,AU25=2
    # one target per line of a file: [name] and 17 raw values
    python ganimation/test_ganimation.py <run> --aus-file targets.txt
    # a photo: detect the face, edit the crop, blend it back into the photo
    python ganimation/test_ganimation.py <run> --image me.jpg --aus AU12=3 --paste-back
    # the generator exported to ONNX and run by onnxruntime (requirements-deploy.txt)
    python ganimation/test_ganimation.py <run> --backend onnxruntime

For ``--num-steps K`` the conditions are y(a) = a * target + (1 - a) * source
for a = 1/K, ..., 1.  Per edit ``<out>/<name>.png`` is the strip [source,
K steps, target image when there is one]; ``--as-gif`` adds ``<name>.gif``
with the frames [source, K steps] and back again (2 (K + 1) frames);
``--save-masks`` adds ``<name>_attention.png`` and ``<name>_color.png``.
Output goes to ``<test.logdir>/ganimation/<experiment>/`` unless ``--out-dir``.

A photo's source AUs are estimated by the run's critic (its AU head was
trained on real faces), unless ``--source-aus`` gives them.  Instance
normalisation uses each image's own statistics, so results do not depend on
how many steps are computed together.

``--backend onnxruntime`` runs the generator exported to ONNX (cached next to
the parameter file for the batch of ``--num-steps``, exported again when the
parameters change) with the same pre- and post-processing; the critic that
estimates a photo's AUs runs once per photo and stays in nnabla.
"""
import argparse
import os

import cv2
import nnabla as nn
import numpy as np

from ganimation.data import AU_SCALE, AUFaceSource, assignments_label, mask_to_uint8, \
    parse_au_assignments, read_au_vectors
from ganimation.editor import ExpressionEditor, generator_param_file, load_run
from ganimation.models import D_SCOPE, criticise
from utils.checkpoint import load_network_parameters
from utils.context import add_inference_arguments, setup_inference
from utils.face_crop import crop_square
from utils.face_landmarks import find_face_box
from utils.image_io import read_rgb, to_network_image, to_uint8_image, write_image, \
    write_video
from utils.monitoring import progress, tile_images
from utils.run_paths import RunPaths
from utils.user_errors import CorruptSampleError, SkipTally, UserError, check_positive, \
    run_main


class AUEstimator:
    """The critic's AU head: a face (3, S, S) -> its AUs / 5."""

    def __init__(self, config, param_file):
        size = config["data"]["image_size"]
        self.face = nn.Variable((1, 3, size, size))
        _, self.aus = criticise(self.face, config["model"])
        load_network_parameters(param_file, D_SCOPE)

    def __call__(self, face):
        self.face.d = face[None]
        self.aus.forward(clear_buffer=True)
        return self.aus.d[0].copy()


def detect_face_box(rgb, landmark_model=None):
    """The largest face of a photo as an in-bounds square (x0, y0, side), or None.

    Framed like the authors' celebA crops from dlib's landmarks when the face
    tools are installed (requirements-faces.txt), else by OpenCV's Haar cascade.
    """
    return find_face_box(rgb, landmark_model)


def paste_face(photo, box, color, attention):
    """Blend an edit into the photo at full resolution: A keeps the photo, 1 - A takes C.

    Pixels outside the box are untouched.
    """
    x0, y0, side = box
    color_up = cv2.resize(to_uint8_image(color).astype(np.float32), (side, side),
                          interpolation=cv2.INTER_LINEAR)
    attention_up = cv2.resize(attention[0].astype(np.float32), (side, side),
                              interpolation=cv2.INTER_LINEAR)[:, :, None]
    pasted = photo.copy()
    region = photo[y0:y0 + side, x0:x0 + side].astype(np.float32)
    pasted[y0:y0 + side, x0:x0 + side] = np.clip(
        np.rint(attention_up * region + (1.0 - attention_up) * color_up), 0, 255).astype(np.uint8)
    return pasted


class Edit:
    """One source face and one target: what to generate and how to name it."""

    def __init__(self, name, face, source_aus, target_aus, target_image=None):
        self.name, self.face = name, face
        self.source_aus, self.target_aus = source_aus, target_aus
        self.target_image = target_image


def target_list(args, source_raw):
    """[(suffix, raw target AUs)] from --aus / --aus-file, or None for expression transfer."""
    if args.aus:
        # Named by the edit, so that edits of one face do not overwrite each other.
        return [(assignments_label(args.aus), parse_au_assignments(args.aus, base=source_raw))]
    if args.aus_file:
        return read_au_vectors(args.aus_file)
    return None


def dataset_edits(args, source, rng, skips):
    """Edits of the first ``-n`` test images (all without -n).

    An unreadable image (as source or as transfer target) is added to
    ``skips`` and its edits are left out; the other edits are still made.
    """
    count = len(source) if args.num_test is None else args.num_test
    if not 1 <= count <= len(source):
        raise UserError("-n {} asked, but the test set has {} images".format(count, len(source)))
    for index in range(count):
        source_aus = source.aus[index]
        name = source.ids[index]
        targets = target_list(args, source_aus * AU_SCALE)
        if targets is None and len(source) < 2:
            raise UserError("expression transfer needs two test images; use --aus")
        try:
            face = source.image(index)
        except CorruptSampleError as err:
            skips.add(err, key=index)
            continue
        if targets is None:
            other = rng.randint(len(source) - 1)
            if other >= index:
                other += 1
            try:
                target_image = to_uint8_image(source.image(other))
            except CorruptSampleError as err:
                skips.add(err, key=other)
                continue
            yield Edit("{}_{}".format(name, source.ids[other]), face, source_aus,
                       source.aus[other], target_image)
            continue
        for suffix, raw in targets:
            yield Edit("{}_{}".format(name, suffix), face, source_aus, raw / AU_SCALE)


def photo_edits(args, config, param_file, crop, rng, source):
    """Edits of the face cropped from a photo."""
    face = to_network_image(crop)
    if args.source_aus:
        source_aus = parse_au_assignments(args.source_aus) / AU_SCALE
    else:
        critic_file = args.critic_param_file or os.path.join(
            os.path.dirname(param_file), os.path.basename(param_file).replace("netG_", "netD_"))
        if not os.path.isfile(critic_file):
            raise UserError("the photo's AUs are estimated by the critic, but {} is missing; "
                            "pass --critic-param-file or --source-aus".format(critic_file))
        source_aus = AUEstimator(config, critic_file)(face)
    name = os.path.splitext(os.path.basename(args.image))[0]
    targets = target_list(args, source_aus * AU_SCALE)
    if targets is None:
        if source is None:
            raise UserError("--image without --aus or --aus-file transfers the expression of a "
                            "test image, but the run's test set is not available (--data-dir)")
        other = rng.randint(len(source))
        return [Edit("{}_{}".format(name, source.ids[other]), face, source_aus,
                     source.aus[other], to_uint8_image(source.image(other)))]
    return [Edit("{}_{}".format(name, suffix), face, source_aus, raw / AU_SCALE)
            for suffix, raw in targets]


def write_edit(out_dir, edit, outputs, colors, attentions, args, photo=None, box=None):
    source_panel = to_uint8_image(edit.face)
    steps = [to_uint8_image(o) for o in outputs]
    strip = [source_panel] + steps + ([edit.target_image] if edit.target_image is not None else [])
    write_image(os.path.join(out_dir, edit.name + ".png"), tile_images(strip))
    if args.save_masks:
        write_image(os.path.join(out_dir, edit.name + "_attention.png"),
                    tile_images([mask_to_uint8(a) for a in attentions]))
        write_image(os.path.join(out_dir, edit.name + "_color.png"),
                    tile_images([to_uint8_image(c) for c in colors]))
    frames = [source_panel] + steps
    if photo is not None:
        frames = [photo] + [paste_face(photo, box, c, a) for c, a in zip(colors, attentions)]
        write_image(os.path.join(out_dir, edit.name + "_pasted.png"), frames[-1])
    if args.as_gif:
        # Forward then back; repeated frames (the turning point) are kept.
        write_video(os.path.join(out_dir, edit.name + ".gif"), frames + frames[::-1],
                    fps=args.fps, keep_repeated_frames=True)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="the run's training_info.yaml (or its folder)")
    parser.add_argument("--param-file", default=None,
                        help="generator parameters (default: the run's newest netG_ganimation_*)")
    parser.add_argument("--critic-param-file", default=None,
                        help="critic parameters, for a photo's AUs (default: the netD file "
                             "next to the generator's)")
    parser.add_argument("--data-dir", default=None, help="test data (default: the run's)")
    parser.add_argument("-n", "--num-test", type=int, default=None,
                        help="number of test images (default: all)")
    parser.add_argument("--num-steps", type=int, default=None,
                        help="interpolation steps (default: test.num_steps of the config)")
    targets = parser.add_mutually_exclusive_group()
    targets.add_argument("--aus", default=None,
                         help="target AUs as AU12=3,AU25=2 (OpenFace 0-5 scale)")
    targets.add_argument("--aus-file", default=None,
                         help="a file of target AU vectors: per line [name] and 17 raw values")
    parser.add_argument("--image", default=None, help="edit the face of this photo")
    parser.add_argument("--landmark-model", default=None,
                        help="with --image: dlib's 68-point model (default: found)")
    parser.add_argument("--paste-back", action="store_true",
                        help="with --image: also write the photo with the edited face")
    parser.add_argument("--source-aus", default=None,
                        help="with --image: the photo's AUs (AU06=1,...) instead of the critic's "
                             "estimate")
    parser.add_argument("--no-detect", action="store_true",
                        help="with --image: the photo is already a face crop")
    parser.add_argument("--as-gif", action="store_true", help="also write animated GIFs")
    parser.add_argument("--fps", type=float, default=None)
    parser.add_argument("--save-masks", action="store_true",
                        help="also write the attention and colour masks")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--seed", type=int, default=0, help="choice of transfer targets")
    return add_inference_arguments(parser, "generator")


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.paste_back and not args.image:
        raise UserError("--paste-back needs --image")
    config = load_run(args.config)
    setup_inference(args)  # with onnxruntime, nnabla runs only the critic, on the CPU
    data, test = config["data"], config["test"]
    num_steps = args.num_steps or test["num_steps"]
    args.fps = check_positive(test["fps"] if args.fps is None else args.fps,
                              "--fps" if args.fps is not None else "test.fps")
    param_file = generator_param_file(config, args.param_file)
    editor = ExpressionEditor(config, param_file, num_steps, args.backend, args.threads)
    paths = RunPaths.of(config)
    out_dir = args.out_dir or os.path.join(paths.output(config, "test.logdir"), "ganimation",
                                           config["experiment_name"])
    rng = np.random.RandomState(args.seed)
    data_dir = args.data_dir
    if not data_dir and args.image:  # the test faces only offer AUs to choose from
        data_dir = data["data_dir"]
    elif not data_dir:
        data_dir = paths.input(config, "data.data_dir", "--data-dir")

    photo = box = source = None
    skips = SkipTally()
    if args.image:
        photo = read_rgb(args.image)
        box = (0, 0, min(photo.shape[:2])) if args.no_detect else \
            detect_face_box(photo, args.landmark_model)
        if box is None:
            raise UserError("no face found in {}; pass a face crop with --no-detect".format(
                args.image))
        print("face at x={} y={} size {} in {}".format(box[0], box[1], box[2], args.image))
        crop, _ = crop_square(photo, box[0], box[1], box[2], data["image_size"])
        if not (args.aus or args.aus_file) and os.path.isdir(data_dir):
            source = AUFaceSource(data_dir, "test", data["image_size"], flip=False,
                                  aus_file=data["aus_file"], verbose=False)
        edits = photo_edits(args, config, param_file, crop, rng, source)
    else:
        source = AUFaceSource(data_dir, "test", data["image_size"], flip=False,
                              aus_file=data["aus_file"])
        edits = dataset_edits(args, source, rng, skips)

    written = 0
    for edit in progress(edits, desc="ganimation"):
        outputs, colors, attentions = editor(edit.face, edit.source_aus, edit.target_aus)
        write_edit(out_dir, edit, outputs, colors, attentions, args,
                   photo if args.paste_back else None, box)
        written += 1
    skips.finish("test images of {}".format(data_dir), written)
    print("{} edits with {} written to {}".format(written, param_file, out_dir))
    return 0


if __name__ == "__main__":
    run_main(main)
