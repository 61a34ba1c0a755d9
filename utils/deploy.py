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
"""Deploy trained networks: NNP and ONNX export, an export cache, two runners.

NNabla's own deployment path: a built graph is saved as ``.nnp``
(``nnabla.utils.save``) and converted to ``.onnx`` by nnabla-converter's
Python API (its ``nnabla_cli convert`` insists on TensorFlow).  The ONNX graph
then gets two rewrites that keep the outputs (to float rounding) and make
onnxruntime's CPU kernels fast:

* a BatchNormalization that is the only consumer of a ConvTranspose is folded
  into its weights (onnxruntime folds BN only into Conv);
* a stride-2 ConvTranspose becomes four small Convs, one per output phase,
  and a DepthToSpace (the same multiply-adds): onnxruntime's ConvTranspose
  (GEMM + col2im) scales worse over cores than its Conv; the decoder ran 8 %
  faster on two cores, as fast on one.

:class:`OnnxRunner` and :class:`NnablaRunner` share one call signature, numpy
arrays in the order of the network's inputs in, a tuple of numpy arrays out,
so the test scripts keep one pre- and post-processing for both backends.

The optional packages are in ``requirements-deploy.txt``; nnabla-converter
must be installed with ``--no-deps`` (its dependencies pull TensorFlow and
numpy 2).
"""
import collections
import contextlib
import glob
import hashlib
import io
import json
import os
import shutil
import tempfile
import warnings

import nnabla as nn
import numpy as np

from .atomic_files import atomic_path
from .cores import available_cores
from .user_errors import UserError

INSTALL_HINT = ("install them with: pip install -r requirements-deploy.txt && "
                "pip install --no-deps nnabla-converter==1.39.0")
OPSET = "11"
# Part of the cache key: bump it whenever the exported graph changes for the
# same parameters (rewrites, names), so stale cached files are not reused.
EXPORT_REVISION = 2


# ---------------------------------------------------------------- packages

def require_deploy_packages(need_runtime=True, need_converter=True):
    """Import the optional packages or raise a UserError that says how to install them."""
    missing = []
    modules = []
    if need_converter:
        modules += [("onnx", "onnx"), ("nnabla.utils.converter.nnabla", "nnabla-converter")]
    if need_runtime:
        modules.append(("onnxruntime", "onnxruntime"))
    for module, package in modules:
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise UserError("ONNX export and inference need {} ({} missing); {}".format(
            ", ".join(package for _, package in modules), ", ".join(missing), INSTALL_HINT))


# ---------------------------------------------------------------- graphs

@contextlib.contextmanager
def isolated_parameters():
    """A fresh root parameter scope, so an export never touches the caller's parameters."""
    with nn.parameter_scope("", collections.OrderedDict()) as scope:
        yield scope


def graph_parameters(outputs):
    """{full name: Variable} of the parameters the graph of ``outputs`` reads.

    Must be called in the scope the graph was built in.  Parameters the graph
    does not use (running statistics when batch statistics are on) are left
    out, so the NNP holds exactly what its network needs.
    """
    # Python wrappers of one variable differ; hash() is that of the C++ variable.
    by_hash = {hash(v): (name, v) for name, v in nn.get_parameters(grad_only=False).items()}
    used = {}

    def collect(function):
        for variable in function.inputs:
            if hash(variable) in by_hash:
                name, parameter = by_hash[hash(variable)]
                used[name] = parameter

    for output in outputs:
        output.visit(collect)
    return collections.OrderedDict(sorted(used.items()))


def save_nnp(path, name, inputs, outputs, batch_size):
    """Save the graph ``inputs`` -> ``outputs`` ({name: Variable}) and its parameters as NNP.

    Call it in the parameter scope the graph was built in.
    """
    from nnabla.utils.save import save
    contents = {
        "networks": [{"name": name, "batch_size": batch_size, "outputs": dict(outputs),
                      "names": dict(inputs)}],
        "executors": [{"name": "runtime", "network": name, "data": list(inputs),
                       "output": list(outputs)}]}
    parameters = graph_parameters(list(outputs.values()))
    with atomic_path(path) as tmp, contextlib.redirect_stdout(io.StringIO()):
        save(tmp, contents, variable_batch_size=False, parameters=parameters)
    return path


def nnp_to_onnx(nnp_path, onnx_path, optimize=True):
    """Convert an NNP to ONNX (opset 11) with nnabla-converter's Python API."""
    require_deploy_packages(need_runtime=False)
    import onnx
    from nnabla.utils.converter.nnabla import NnpImporter
    from nnabla.utils.converter.onnx import OnnxExporter
    with atomic_path(onnx_path) as tmp, contextlib.redirect_stdout(io.StringIO()), \
            warnings.catch_warnings():
        # The converter prints progress and uses numpy's deprecated tostring().
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            nnp = NnpImporter(nnp_path, expand_network=False, executor_index=None).execute()
            OnnxExporter(nnp, -1, ir_version=-1, opset=OPSET).execute(tmp)
        except (ValueError, KeyError, NotImplementedError) as err:
            raise UserError("nnabla-converter cannot convert {} to ONNX: {}".format(
                nnp_path, " ".join(str(err).split())))
        if optimize:
            model = onnx.load(tmp)
            optimize_onnx(model)
            onnx.checker.check_model(model)
            onnx.save(model, tmp)
    return onnx_path


# ---------------------------------------------------------------- ONNX rewrites

def _attributes(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _consumers(graph):
    found = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            found[name].append(node)
    return found


def _fold_batch_norm_into_conv_transpose(graph, initializers):
    """Fold each inference BatchNormalization whose input only a ConvTranspose produces."""
    from onnx import numpy_helper
    consumers = _consumers(graph)
    outputs = {o.name for o in graph.output}
    producers = {out: node for node in graph.node for out in node.output}
    for bn in [n for n in graph.node if n.op_type == "BatchNormalization"]:
        deconv = producers.get(bn.input[0])
        if (deconv is None or deconv.op_type != "ConvTranspose" or len(bn.output) != 1
                or len(consumers[deconv.output[0]]) != 1 or deconv.output[0] in outputs
                or not all(name in initializers for name in list(bn.input[1:]) +
                           list(deconv.input[1:]))):
            continue
        gamma, beta, mean, var = (numpy_helper.to_array(initializers[name]).astype(np.float64)
                                  for name in bn.input[1:5])
        scale = gamma / np.sqrt(var + _attributes(bn).get("epsilon", 1e-5))
        weight = numpy_helper.to_array(initializers[deconv.input[1]])
        if _attributes(deconv).get("group", 1) != 1 or weight.shape[1] != scale.size:
            continue
        bias = (numpy_helper.to_array(initializers[deconv.input[2]]).astype(np.float64)
                if len(deconv.input) > 2 else np.zeros(scale.size))
        new_weight = (weight * scale[None, :, None, None]).astype(np.float32)
        new_bias = ((bias - mean) * scale + beta).astype(np.float32)
        # Node names may be empty; output names are unique.
        weight_name = deconv.output[0] + "_bnfold_W"
        bias_name = deconv.output[0] + "_bnfold_b"
        for name, value in ((weight_name, new_weight), (bias_name, new_bias)):
            initializers[name] = numpy_helper.from_array(value, name)
        del deconv.input[1:]
        deconv.input.extend([weight_name, bias_name])
        deconv.output[0] = bn.output[0]
        graph.node.remove(bn)


def _phase_taps(kernel, pad_begin, phase):
    """[(kernel index, input offset)] of one output phase of a stride-2 transposed conv.

    Output row 2 q + phase reads input row q + offset through kernel row
    ``phase + pad_begin - 2 offset``.
    """
    return [(k, (phase + pad_begin - k) // 2) for k in range(kernel)
            if (phase + pad_begin - k) % 2 == 0]


def _conv_transpose_as_phases(node, graph, initializers):
    """Nodes replacing a stride-2 ConvTranspose by four Convs and a DepthToSpace, or None."""
    from onnx import helper, numpy_helper
    attributes = _attributes(node)
    kernel = list(attributes.get("kernel_shape", []))
    pads = list(attributes.get("pads", [0, 0, 0, 0]))
    output_padding = list(attributes.get("output_padding", [0, 0]))
    if (len(kernel) != 2 or list(attributes.get("strides", [1, 1])) != [2, 2]
            or attributes.get("group", 1) != 1
            or list(attributes.get("dilations", [1, 1])) != [1, 1]
            or attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
            or "output_shape" in attributes or node.input[1] not in initializers
            or (len(node.input) > 2 and node.input[2] not in initializers)):
        return None
    # The output must be exactly twice the input (in - 1) * 2 - pads + kernel + output_padding.
    for axis in (0, 1):
        if kernel[axis] + output_padding[axis] - pads[axis] - pads[axis + 2] != 2:
            return None
    weight = numpy_helper.to_array(initializers[node.input[1]])  # (in, out, kh, kw)
    bias = numpy_helper.to_array(initializers[node.input[2]]) if len(node.input) > 2 else None
    nodes, phase_outputs = [], []
    for phase_y in (0, 1):
        rows = _phase_taps(kernel[0], pads[0], phase_y)
        for phase_x in (0, 1):
            cols = _phase_taps(kernel[1], pads[1], phase_x)
            if not rows or not cols:
                return None
            # The window must contain offset 0, so that the Conv pads are >= 0.
            low_y = min(0, min(o for _, o in rows))
            high_y = max(0, max(o for _, o in rows))
            low_x = min(0, min(o for _, o in cols))
            high_x = max(0, max(o for _, o in cols))
            phase_weight = np.zeros((weight.shape[1], weight.shape[0], high_y - low_y + 1,
                                     high_x - low_x + 1), np.float32)
            for ky, offset_y in rows:
                for kx, offset_x in cols:
                    phase_weight[:, :, offset_y - low_y, offset_x - low_x] = \
                        weight[:, :, ky, kx].T
            prefix = "{}_phase{}{}".format(node.output[0], phase_y, phase_x)
            initializers[prefix + "_W"] = numpy_helper.from_array(phase_weight, prefix + "_W")
            inputs = [node.input[0], prefix + "_W"]
            if bias is not None:
                initializers[prefix + "_b"] = numpy_helper.from_array(bias, prefix + "_b")
                inputs.append(prefix + "_b")
            phase_outputs.append(prefix + "_out")
            nodes.append(helper.make_node(
                "Conv", inputs, [phase_outputs[-1]], name=prefix,
                kernel_shape=list(phase_weight.shape[2:]),
                pads=[-low_y, -low_x, high_y, high_x]))
    # Channels (phase, c) in phase order y, x is DepthToSpace's DCR layout.
    concatenated = node.output[0] + "_phases"
    nodes.append(helper.make_node("Concat", phase_outputs, [concatenated], axis=1,
                                  name=concatenated))
    nodes.append(helper.make_node("DepthToSpace", [concatenated], list(node.output),
                                  blocksize=2, mode="DCR", name=concatenated + "_d2s"))
    return nodes


def optimize_onnx(model):
    """Rewrite ``model`` in place for onnxruntime's CPU kernels (see the module doc)."""
    graph = model.graph
    initializers = collections.OrderedDict((i.name, i) for i in graph.initializer)
    _fold_batch_norm_into_conv_transpose(graph, initializers)
    rewritten = []
    for node in graph.node:
        replacement = node.op_type == "ConvTranspose" and \
            _conv_transpose_as_phases(node, graph, initializers)
        rewritten.extend(replacement or [node])
    del graph.node[:]
    graph.node.extend(rewritten)
    used = {name for node in graph.node for name in node.input}
    del graph.initializer[:]
    graph.initializer.extend(v for k, v in initializers.items() if k in used)
    # Initializers listed as graph inputs (older IR) must go with them.
    kept_inputs = [i for i in graph.input if i.name in used or i.name not in initializers]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    return model


# ---------------------------------------------------------------- the project's networks

# The networks that can be run and exported: name -> build(config, batch_size,
# batch_stat), which builds a run's network on placeholders and returns
# ({input: Variable}, {output: Variable}, parameter scope).  The model packages
# declare theirs (reenactgan/run_files.py, ganimation/editor.py), so that this
# module imports neither; a script imports the package whose networks it runs.
NETWORKS = collections.OrderedDict()


def declare_network(name, build):
    NETWORKS[name] = build


def build_network(name, config, batch_size, batch_stat=False):
    """Build a declared network of a run (``config``: its training_info.yaml as a dict);
    batch norm uses running statistics unless ``batch_stat``."""
    if name not in NETWORKS:
        raise UserError("unknown network '{}'; choose one of {}".format(
            name, ", ".join(NETWORKS) or "(none declared)"))
    return NETWORKS[name](config, batch_size, batch_stat)


def _build_checked(name, config, batch_size, batch_stat):
    try:
        return build_network(name, config, batch_size, batch_stat)
    except KeyError as err:
        raise UserError("the run's training_info.yaml has no setting {} that the {} needs: "
                        "is it the {}'s run?".format(err, name, name))


def network_signature(name, config, batch_size, batch_stat=False):
    """What, besides the parameters, decides the exported graph."""
    signature = {"network": name, "model": config.get("model"), "batch_size": int(batch_size),
                 "batch_stat": bool(batch_stat), "revision": EXPORT_REVISION,
                 "opset": OPSET, "nnabla": nn.__version__,
                 "model_name": config.get("model_name"),
                 "image_size": (config.get("data") or {}).get("image_size")}
    return json.dumps(signature, sort_keys=True, default=str)


def _load(param_file, scope):
    from utils.checkpoint import load_network_parameters
    load_network_parameters(param_file, scope)


def nnabla_runner(name, config, param_file, batch_size, batch_stat=False):
    """A network of a run in nnabla, as a :class:`NnablaRunner` with its own parameters."""
    with isolated_parameters():
        inputs, outputs, scope = _build_checked(name, config, batch_size, batch_stat)
        _load(param_file, scope)
    return NnablaRunner(inputs, outputs)


def export_network(name, config, param_file, batch_size, nnp_path=None, onnx_path=None,
                   batch_stat=False, optimize=True):
    """Export a network of a run to ``nnp_path`` and/or ``onnx_path``; returns the paths."""
    if onnx_path:
        require_deploy_packages(need_runtime=False)
    written = []
    with isolated_parameters():
        inputs, outputs, scope = _build_checked(name, config, batch_size, batch_stat)
        _load(param_file, scope)
        work = tempfile.mkdtemp(prefix="nnp-export-")
        try:
            nnp = nnp_path or os.path.join(work, "{}.nnp".format(name))
            save_nnp(nnp, name, inputs, outputs, batch_size)
            if nnp_path:
                written.append(nnp_path)
            if onnx_path:
                written.append(nnp_to_onnx(nnp, onnx_path, optimize=optimize))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return written


# ---------------------------------------------------------------- export cache

def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir_for(param_file):
    folder = os.path.dirname(os.path.abspath(param_file))
    if os.access(folder, os.W_OK | os.X_OK):
        return folder
    # Read-only runs (a shared model folder): cache in the user's cache folder.
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    fallback = os.path.join(root, "nnabla-facial-animation", "onnx",
                            hashlib.sha256(folder.encode()).hexdigest()[:12])
    os.makedirs(fallback, exist_ok=True)
    return fallback


def cached_onnx_path(name, config, param_file, batch_size, batch_stat=False):
    """Where the cached ONNX of these parameters and this graph lives (it may not exist yet)."""
    if not os.path.isfile(param_file):
        raise UserError("parameter file {} not found".format(param_file))
    digest = hashlib.sha256()
    digest.update(file_digest(param_file).encode())
    digest.update(network_signature(name, config, batch_size, batch_stat).encode())
    stem = os.path.splitext(os.path.basename(param_file))[0]
    # The mode is in the name so that the two modes' exports do not replace each other.
    mode = "batchstat." if batch_stat else ""
    return os.path.join(_cache_dir_for(param_file), "{}.{}.{}b{}.{}.onnx".format(
        stem, name, mode, batch_size, digest.hexdigest()[:8]))


def cached_onnx(name, config, param_file, batch_size, batch_stat=False, verbose=True):
    """The ONNX of a network next to its parameter file, exported on first use.

    The file name holds a hash of the parameter file's contents and of the
    graph's settings, so new parameters (a longer training, another file under
    the same name) are exported again; older exports of the same network and
    batch size (and batch-norm mode) are removed then.
    """
    path = cached_onnx_path(name, config, param_file, batch_size, batch_stat)
    if os.path.isfile(path):
        return path
    if verbose:
        print("exporting the {} to {}".format(name, path))
    export_network(name, config, param_file, batch_size, onnx_path=path, batch_stat=batch_stat)
    stem = path[:-len(".onnx")].rsplit(".", 1)[0]
    for stale in glob.glob(glob.escape(stem) + ".*.onnx"):
        if stale != path:
            with contextlib.suppress(OSError):
                os.remove(stale)
    return path


# ---------------------------------------------------------------- runners

class NnablaRunner:
    """A built nnabla graph as a function: arrays in input order -> tuple of output arrays."""

    def __init__(self, inputs, outputs):
        self.input_names, self.output_names = list(inputs), list(outputs)
        self.inputs, self.outputs = list(inputs.values()), list(outputs.values())
        for variable in self.outputs:
            variable.persistent = True
        self.batch_size = self.inputs[0].shape[0]
        self.input_shapes = [tuple(v.shape) for v in self.inputs]

    def __call__(self, *arrays):
        for variable, array in zip(self.inputs, arrays):
            variable.d = array
        nn.forward_all(self.outputs, clear_no_need_grad=True)
        return tuple(v.d.copy() for v in self.outputs)


class OnnxRunner:
    """An ONNX file run by onnxruntime on the CPU, called like :class:`NnablaRunner`.

    ``streams`` > 1 runs that many copies of the file's batch at once, each in
    its own thread with ``threads // streams`` onnxruntime threads, on one
    session (so one copy of the weights): the caller passes ``streams`` times
    the file's batch.  Whole frames per core scale better than onnxruntime's
    threads inside each convolution, whose feature maps are small.
    """

    def __init__(self, path, threads=None, streams=1):
        require_deploy_packages(need_converter=False)
        import onnxruntime as ort
        threads = threads or available_cores()
        self.streams = max(1, min(int(streams), threads))
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads // self.streams)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The memory arena stays on: without it the decoder's peak fell from 700 to
        # 530 MB but every run faulted its activations in again, 20-30 % slower.
        options.log_severity_level = 3  # warnings about unused initializers are noise
        try:
            self.session = ort.InferenceSession(path, options,
                                                providers=["CPUExecutionProvider"])
        except Exception as err:
            raise UserError("onnxruntime cannot load {}: {}".format(
                path, " ".join(str(err).split())))
        self.path = path
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.session_batch = self.session.get_inputs()[0].shape[0]
        self.batch_size = self.session_batch * self.streams
        self.input_shapes = [(self.batch_size,) + tuple(i.shape[1:])
                             for i in self.session.get_inputs()]
        self._pool = None
        if self.streams > 1:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(self.streams)

    def _run(self, arrays):
        feed = {name: np.ascontiguousarray(array, dtype=np.float32)
                for name, array in zip(self.input_names, arrays)}
        return self.session.run(self.output_names, feed)

    def __call__(self, *arrays):
        if self.streams == 1:
            return tuple(self._run(arrays))
        step = self.session_batch
        parts = list(self._pool.map(
            self._run, [[a[i * step:(i + 1) * step] for a in arrays]
                        for i in range(self.streams)]))
        return tuple(np.concatenate([part[k] for part in parts])
                     for k in range(len(self.output_names)))


def parallel_streams(batch_size, threads, batch_stat=False):
    """How many frame groups of a batch to run side by side (a divisor of the batch).

    Batch statistics need the whole batch in one run.
    """
    if batch_stat:
        return 1
    return max(d for d in range(1, min(batch_size, threads) + 1) if batch_size % d == 0)


def onnx_runner(name, config, param_file, batch_size, batch_stat=False, threads=None):
    """A network of a run on onnxruntime, exported (and cached) on first use.

    A batch is split into ``parallel_streams`` groups run side by side; the
    ONNX file holds one group's batch.
    """
    require_deploy_packages()
    streams = parallel_streams(batch_size, threads or available_cores(), batch_stat)
    path = cached_onnx(name, config, param_file, batch_size // streams, batch_stat)
    return OnnxRunner(path, threads=threads, streams=streams)


def make_runner(backend, name, config, param_file, batch_size, batch_stat=False,
                threads=None):
    """A runner of ``backend`` ("nnabla" or "onnxruntime") for a network of a run."""
    if backend == "nnabla":
        return nnabla_runner(name, config, param_file, batch_size, batch_stat)
    if backend == "onnxruntime":
        return onnx_runner(name, config, param_file, batch_size, batch_stat, threads)
    raise UserError("unknown backend '{}'; choose nnabla or onnxruntime".format(backend))
