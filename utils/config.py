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
"""Configurations are plain nested dicts overridden by a YAML file.

Each script owns a dict of defaults; a YAML file may only change values that
exist there, with a compatible type, so a typo fails at start-up instead of
being silently ignored after hours of training::

    DEFAULTS = {"experiment_name": time.strftime("%Y%m%d%H%M"),
                "train": {"batch_size": 16, "epochs": 100, "lr": 1e-4},
                "finetune": {"steps": 1000}}

    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    args = parser.parse_args()
    config = load_config(DEFAULTS, args.conf, args.info)
    config["train"]["lr"]       # 1e-4 unless the YAML says otherwise

    # my.yaml
    train: {lr: 2.0e-4}
    finetune: null              # a null section disables it
"""
import copy
import os

import yaml

from .atomic_files import atomic_write_text, ensure_writable_dir
from .user_errors import UserError

TRAINING_INFO_NAME = "training_info.yaml"

# Keys that the public NNabla port writes in its configs and training_info.yaml
# files and that change nothing here: the data iterators' caches (the loaders
# here read files on demand and always shuffle for training), the WFLW
# reader's switch (only its npz path worked), an unused activation and flag.
# They are accepted, so that the port's files load, and named in a notice.
PORT_KEYS_WITHOUT_EFFECT = frozenset([
    "use_reference", "isTrain", "model.activation", "train.shuffle",
    "train.with_memory_cache", "train.with_file_cache",
    "test.with_memory_cache", "test.with_file_cache",
    # The transformer's and decoder's test scripts run one frame at a time and
    # write every result (the encoder's test.batch_size is its own key).
    "test.batch_size", "test.vis_interval",
])


def _type_name(value):
    return type(value).__name__


def _where(prefix):
    return "under '{}'".format(prefix) if prefix else "at the top level"


def _coerce(default, value, key, source):
    """Check ``value`` against the type of ``default``; return the value to keep."""
    def wrong(expected):
        return UserError("{}: key '{}' expects {}, got {!r} ({})".format(
            source, key, expected, value, _type_name(value)))

    # bool is tested before int because bool is a subclass of int.
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise wrong("a boolean (true/false)")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if isinstance(default, (list, tuple)):
        if _is_size_pair(default) and _is_integer(value):
            return [value, value]  # the port's form of a square size: 5 for (5, 5)
        if not isinstance(value, (list, tuple)):
            raise wrong("a list")
        return list(value)
    if not isinstance(value, type(default)):
        raise wrong("a value of type {}".format(_type_name(default)))
    return copy.deepcopy(value)


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_size_pair(value):
    return len(value) == 2 and all(_is_integer(v) for v in value)


def _merge(defaults, overrides, prefix, source, ignored):
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        dotted = "{}.{}".format(prefix, key) if prefix else str(key)
        if key not in defaults and dotted in PORT_KEYS_WITHOUT_EFFECT:
            ignored.append(dotted)
            continue
        if key not in defaults:
            raise UserError("{}: unknown key '{}'; valid keys {}: {}".format(
                source, dotted, _where(prefix),
                ", ".join(sorted(str(k) for k in defaults)) or "(none)"))
        default = defaults[key]
        if default is None:
            merged[key] = copy.deepcopy(value)
        elif isinstance(default, dict):
            if value is None:
                merged[key] = None
            elif isinstance(value, dict):
                merged[key] = _merge(default, value, dotted, source, ignored)
            else:
                raise UserError(
                    "{}: key '{}' expects a mapping (or null to disable it), "
                    "got {!r} ({})".format(source, dotted, value, _type_name(value)))
        else:
            merged[key] = _coerce(default, value, dotted, source)
    return merged


def merge_config(defaults, overrides, source="<config>"):
    """Return a new dict: ``defaults`` with the values of ``overrides``.

    Unknown keys (including new sections) and values whose type does not
    match the default raise a :class:`UserError` naming ``source``, except
    the public port's keys that have no effect here
    (``PORT_KEYS_WITHOUT_EFFECT``): those are left out, with one notice.
    """
    if overrides is None:
        return copy.deepcopy(defaults)
    if not isinstance(overrides, dict):
        raise UserError("{}: expected a mapping of keys, got {}".format(
            source, _type_name(overrides)))
    ignored = []
    merged = _merge(defaults, overrides, "", source, ignored)
    if ignored:
        print("note: {}: ignoring {} (keys of the public NNabla port that have no effect "
              "here)".format(source, ", ".join(sorted(ignored))))
    return merged


def _read_yaml(path, what):
    if not os.path.isfile(path):
        raise UserError("{} {} not found".format(what, path))
    try:
        with open(path, "rb") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = " at line {}".format(mark.line + 1) if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise UserError("{}: invalid YAML{}: {}".format(path, line, problem))
    except OSError as err:
        raise UserError("cannot read {} {}: {}".format(what, path, err.strerror))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError("{}: the top level must be a mapping of keys, got {}".format(
            path, _type_name(data)))
    return data


def load_yaml(path):
    """Read a YAML mapping; an empty file gives ``{}``."""
    return _read_yaml(path, "config file")


def add_config_arguments(parser):
    """Add the options shared by every training script to ``parser``."""
    parser.add_argument(
        "--conf", "--config", dest="conf", default=None,
        help="YAML file overriding the default configuration "
             "(--config is accepted because the public port used it)")
    parser.add_argument(
        "--info", default=None,
        help="suffix appended to experiment_name to tell runs apart")
    parser.add_argument(
        "--context", default=None,
        help="cpu, cuda or cudnn (falls back to cpu when CUDA is not installed); "
             "default: the config's context, cudnn")
    parser.add_argument("--device-id", type=int, default=None,
                        help="GPU index (default: the config's device_id, 0)")
    parser.add_argument(
        "--resume", nargs="?", const=True, default=None, metavar="RUN_DIR",
        help="continue from the latest checkpoint: of RUN_DIR (a folder under "
             "tmp.monitor holding training_info.yaml), or of the run named by the config")
    return parser


def load_config(defaults, conf_path=None, info=None):
    """Defaults, overridden by the YAML at ``conf_path``, named with ``info``."""
    config = copy.deepcopy(defaults)
    if conf_path:
        config = merge_config(config, load_yaml(conf_path), source=conf_path)
    if info and config.get("experiment_name"):
        config["experiment_name"] = "{}_{}".format(config["experiment_name"], info)
    return config


def _plain(value):
    # safe_dump refuses tuples; a config written for humans needs none anyway.
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_training_info(config, folder):
    """Write ``folder/training_info.yaml`` atomically and return its path."""
    ensure_writable_dir(folder)
    path = os.path.join(folder, TRAINING_INFO_NAME)
    text = yaml.safe_dump(_plain(config), sort_keys=True, default_flow_style=False)
    atomic_write_text(path, text)
    return path


RUN_KINDS = ("encoder", "transformer", "decoder", "ganimation")


def check_run_kind(info, expected, path):
    """Stop with one line when the training_info ``info`` (read from ``path``) is not a
    run of ``expected`` kind.  A ReenactGAN run says its kind in ``dataset_mode`` (as the
    port's do); a GANimation run is known by its generator widths."""
    mode = info.get("dataset_mode")
    found = mode if mode in RUN_KINDS else None
    if found is None and "g_conv_dim" in (info.get("model") or {}):
        found = "ganimation"
    if found is not None and found != expected:
        raise UserError("{} is the training info of {} {} run; this needs {} {} run".format(
            path, _article(found), found, _article(expected), expected))


def _article(word):
    return "an" if word[0] in "aeiou" else "a"


def read_training_info(path):
    """Read a ``training_info.yaml`` written by :func:`save_training_info`."""
    return _read_yaml(path, "training info file")
