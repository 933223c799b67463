"""YuNet, the face detector of ``yuface``, run by onnxruntime: the same network, 3-5x cheaper.

Why
    ``yuface`` ships libfacedetection's YuNet with its weights compiled in. Its own inference
    code spent 45-55 ms of CPU on one 512x384 decode on the benchmark machine (in its slow
    state), most of an image's cost with face detection on; onnxruntime runs the same network
    (the same layers, the same weights) in about 11 ms, and a 384x288 decode in 5 ms against
    25. No package on PyPI or Debian ships the YuNet model as a file, and the auditor may not
    download one at run time, so this module reads the weights out of the library ``yuface``
    installed and builds the network from them.

How
    libfacedetection exports its layer table, ``param_pConvInfo``: 53 convolutions, each a
    ``ConvInfoStruct`` (input channels, filters, depthwise or pointwise, pointers to float
    weights and biases). The table is read through :mod:`ctypes` from the library
    ``yuface`` loaded, checked against the architecture below (:data:`_LAYERS`), and turned
    into an ONNX graph (:func:`_graph`) in the order libfacedetection's ``objectdetect_cnn``
    runs it: a 3x3 stride-2 convolution, pointwise + depthwise pairs with ReLU, four 2x2 max
    pools, a feature pyramid (nearest upsampling and addition) and, at strides 8, 16 and
    32, heads for class, box, objectness and landmarks. The input is zero-padded to a
    multiple of 32 on the bottom and right, as libfacedetection pads it.

    :func:`_decode` then does what libfacedetection's ``detection_output`` does: score =
    sqrt(sigmoid(class) x sigmoid(objectness)), boxes decoded from the anchor grid, candidates
    of at least :data:`_LIBRARY_MIN_SCORE`, a stable sort by score, the first 1,000, greedy
    non-maximum suppression at intersection over union :data:`_NMS_IOU`, at most 512 faces,
    and ``yuface``'s integer results (confidence in percent and box corners truncated).
    ``tests/extract/test_yunet.py`` checks that both return identical confidences, boxes
    and landmarks for the face fixtures at eight sizes, mirrored and in grey; they were
    identical on all 985 images of the benchmark's realistic site too.

When it is not used
    When this module cannot be imported (onnxruntime or onnx missing) or :func:`build` returns
    ``None`` (the library's table does not have the expected shape: another ``yuface``
    release), the ``faces`` extractor calls ``yuface.detect`` itself. The extractor imports
    this module only when it first detects, so the crawling process never loads NumPy or
    onnxruntime.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime

_PAD: Final = 32
"""libfacedetection pads its input to a multiple of this (the stride of the coarsest level)."""

_LIBRARY_MIN_SCORE: Final = 0.2
"""libfacedetection's ``detection_output`` keeps candidates scoring at least this.

This and the next three are the arguments ``objectdetect_cnn`` passes it in the build ``yuface``
ships (read from its machine code; the source on GitHub has had other values)."""

_NMS_IOU: Final = 0.45
"""... and suppresses a candidate overlapping a better one by more than this."""

_TOP_K: Final = 1000
"""Candidates kept before suppression, as in libfacedetection."""

_KEEP_TOP_K: Final = 512
"""Faces kept after suppression, as in libfacedetection."""

_SIGMOID_CLIP: Final = 88.3762626647949
"""libfacedetection clamps logits to this before its sigmoid."""

_STRIDES: Final = (8, 16, 32)

_PW, _DW = "pointwise", "depthwise"
_LAYERS: Final = (
    (32, 16, _PW),  # 0: the 3x3 stride-2 input convolution, as 27 (padded to 32) x 16
    *((16, 16, _PW), (16, 16, _DW)),  # 1-2: backbone model0
    *((16, 16, _PW), (16, 16, _DW), (16, 32, _PW), (32, 32, _DW)),  # 3-6: model1
    *((32, 32, _PW), (32, 32, _DW), (32, 64, _PW), (64, 64, _DW)),  # 7-10: model2
    *((64, 64, _PW), (64, 64, _DW)) * 6,  # 11-22: model3-5 (strides 8, 16, 32)
    *((64, 64, _PW), (64, 64, _DW)) * 3,  # 23-28: the neck, strides 8, 16, 32
    *((64, 1, _PW), (1, 1, _DW)) * 3,  # 29-34: class heads
    *((64, 4, _PW), (4, 4, _DW)) * 3,  # 35-40: box heads
    *((64, 1, _PW), (1, 1, _DW)) * 3,  # 41-46: objectness heads
    *((64, 10, _PW), (10, 10, _DW)) * 3,  # 47-52: landmark heads
)
"""(input channels, filters, kind) of each entry of ``param_pConvInfo``, in its order."""

_HEADS: Final = {"cls": 29, "bbox": 35, "obj": 41, "kps": 47}
"""First layer of each head kind; level ``i`` (stride ``_STRIDES[i]``) uses ``first + 2 * i``."""


class _ConvInfo(ctypes.Structure):
    """libfacedetection's ``ConvInfoStruct`` (facedetectcnn.h)."""

    _fields_ = (
        ("channels", ctypes.c_int),
        ("num_filters", ctypes.c_int),
        ("is_depthwise", ctypes.c_bool),
        ("is_pointwise", ctypes.c_bool),
        ("with_relu", ctypes.c_bool),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("biases", ctypes.POINTER(ctypes.c_float)),
    )


Layer = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
"""A convolution's weights (ONNX layout) and biases."""

Detect = Callable[..., tuple[Any, Any, Any]]
"""``detect(rgb, conf) -> (confidences in percent, boxes XYWH, landmarks)``, like ``yuface``'s."""


class _ModelShapeError(Exception):
    """The library's layer table is not the YuNet this module knows."""


def build(yuface_dir: Path) -> tuple[Detect, str] | None:
    """Build the detector; return it with its engine's name (``onnxruntime <version>``).

    ``yuface_dir`` is the installed ``yuface`` package, whose ``libfacedetection`` the
    process has already loaded. Unlike ``yuface.detect``, the returned function takes the
    reduced decode as an RGB array (H x W x 3, uint8); the channel order is folded into
    the first layer's weights.
    """
    try:
        weights = _read_layers(yuface_dir)
    except (OSError, ValueError, _ModelShapeError):
        return None
    options = onnxruntime.SessionOptions()
    # One worker process per core already keeps the machine busy: no pool threads, no spinning.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        _graph(weights).SerializeToString(),
        options,
        providers=["CPUExecutionProvider"],
    )

    def detect(rgb: npt.NDArray[np.uint8], conf: float = 0.0) -> tuple[Any, Any, Any]:
        height, width = rgb.shape[:2]
        padded_height, padded_width = (-(-side // _PAD) * _PAD for side in (height, width))
        if (padded_height, padded_width) != (height, width):
            canvas = np.zeros((padded_height, padded_width, 3), dtype=np.uint8)
            canvas[:height, :width] = rgb
            rgb = canvas
        outputs = session.run(None, {"rgb": rgb[np.newaxis]})
        return _decode(outputs, conf)

    return detect, f"onnxruntime {importlib.metadata.version('onnxruntime')}"


def _read_layers(yuface_dir: Path) -> list[Layer]:
    """(weights, biases) of every layer in ONNX layout, copied out of the library."""
    # The versioned file first: it is the one yuface's extension links, so dlopen returns the
    # copy already loaded rather than loading the identical unversioned one a second time.
    libraries = sorted(
        yuface_dir.glob("libfacedetection.so*"),
        key=lambda path: (path.name == "libfacedetection.so", path.name),
    )
    if not libraries:
        raise _ModelShapeError("no libfacedetection in the yuface package")
    library = ctypes.CDLL(str(libraries[0]))
    table = (_ConvInfo * len(_LAYERS)).in_dll(library, "param_pConvInfo")
    layers = []
    for index, (info, (channels, filters, kind)) in enumerate(zip(table, _LAYERS, strict=True)):
        depthwise = kind == _DW
        if (info.channels, info.num_filters, info.is_depthwise, info.is_pointwise) != (
            channels,
            filters,
            depthwise,
            not depthwise,
        ):
            raise _ModelShapeError(f"layer {index} is not {channels}->{filters} {kind}")
        taps = 9 if depthwise else filters
        weights = np.ctypeslib.as_array(info.weights, shape=(taps * channels,)).copy()
        biases = np.ctypeslib.as_array(info.biases, shape=(filters,)).copy()
        if depthwise:  # stored as 9 taps x channels; ONNX wants channels x 1 x 3 x 3
            weights = weights.reshape(3, 3, channels).transpose(2, 0, 1)[:, np.newaxis]
        elif index == 0:  # im2col order: tap (3x3) major, then the pixel's B, G, R bytes
            weights = weights.reshape(filters, 32)[:, :27].reshape(filters, 3, 3, 3)
            weights = weights[..., ::-1].transpose(0, 3, 1, 2)  # to RGB input channels
        else:
            weights = weights.reshape(filters, channels, 1, 1)
        layers.append((np.ascontiguousarray(weights, dtype=np.float32), biases))
    return layers


def _graph(layers: list[Layer]) -> onnx.ModelProto:
    """Build the ONNX model of libfacedetection's ``objectdetect_cnn`` with ``layers``' weights."""
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []

    def node(op: str, inputs: list[str], **attributes: Any) -> str:
        output = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def conv(tensor: str, index: int, relu: bool) -> str:
        weights, biases = layers[index]
        names = [f"w{index}", f"b{index}"]
        initializers.append(numpy_helper.from_array(weights, names[0]))
        initializers.append(numpy_helper.from_array(biases, names[1]))
        kernel = weights.shape[2]
        out = node(
            "Conv",
            [tensor, *names],
            kernel_shape=[kernel, kernel],
            strides=[2, 2] if index == 0 else [1, 1],
            pads=[kernel // 2] * 4,
            group=weights.shape[0] if _LAYERS[index][2] == _DW else 1,
        )
        return node("Relu", [out]) if relu else out

    def pair(tensor: str, index: int, relu: bool = True) -> str:
        """Run libfacedetection's ``convolutionDP``: pointwise, then depthwise (+ ReLU)."""
        return conv(conv(tensor, index, relu=False), index + 1, relu)

    def unit(tensor: str, index: int) -> str:
        return pair(pair(tensor, index), index + 2)

    def pool(tensor: str) -> str:
        return node("MaxPool", [tensor], kernel_shape=[2, 2], strides=[2, 2])

    initializers.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "x2"))

    def upsample_add(coarse: str, fine: str) -> str:
        """Run libfacedetection's ``upsampleX2`` (each value to 2x2), then ``elementAdd``."""
        upsampled = node(
            "Resize",
            [coarse, "", "x2"],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
        return node("Add", [upsampled, fine])

    floats = node("Cast", ["rgb"], to=onnx.TensorProto.FLOAT)
    pixels = node("Transpose", [floats], perm=[0, 3, 1, 2])  # NHWC -> NCHW
    features = pool(pair(conv(pixels, 0, relu=True), 1))
    features = pool(unit(unit(features, 3), 7))
    stride8 = unit(features, 11)
    stride16 = unit(pool(stride8), 15)
    stride32 = pair(unit(pool(stride16), 19), 27)
    stride16 = pair(upsample_add(stride32, stride16), 25)
    stride8 = pair(upsample_add(stride16, stride8), 23)
    outputs = [
        pair(tensor, first + 2 * level, relu=False)
        for level, tensor in enumerate((stride8, stride16, stride32))
        for first in _HEADS.values()
    ]
    graph = helper.make_graph(
        nodes,
        "yunet",
        [helper.make_tensor_value_info("rgb", onnx.TensorProto.UINT8, [1, None, None, 3])],
        [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in outputs],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _decode(outputs: list[Any], conf: float) -> tuple[Any, Any, Any]:
    """Run libfacedetection's box decoding and ``detection_output`` on the heads' outputs."""
    scores, boxes, landmarks = [], [], []
    for level, stride in enumerate(_STRIDES):
        cls, bbox, obj, kps = (o[0] for o in outputs[4 * level : 4 * level + 4])
        rows, cols = cls.shape[1:]
        grid_y, grid_x = np.mgrid[0:rows, 0:cols].astype(np.float32) * np.float32(stride)
        score = np.sqrt(_sigmoid(cls[0]) * _sigmoid(obj[0])).ravel()
        keep = np.flatnonzero(score >= _LIBRARY_MIN_SCORE)
        if not keep.size:
            continue
        centre_x = (bbox[0] * stride + grid_x).ravel()[keep]
        centre_y = (bbox[1] * stride + grid_y).ravel()[keep]
        half_w = (np.exp(bbox[2]) * stride).ravel()[keep] / 2
        half_h = (np.exp(bbox[3]) * stride).ravel()[keep] / 2
        edges = (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)
        boxes.append(np.stack(edges, 1))
        points = kps.reshape(5, 2, rows * cols)[:, :, keep] * stride
        points[:, 0] += grid_x.ravel()[keep]
        points[:, 1] += grid_y.ravel()[keep]
        landmarks.append(points.transpose(2, 0, 1).reshape(-1, 10))
        scores.append(score[keep])
    if not scores:
        empty = np.zeros((0,), np.int16)
        return empty, np.zeros((0, 4), np.int16), np.zeros((0, 10), np.int16)
    score = np.concatenate(scores)
    corners = np.concatenate(boxes)
    points = np.concatenate(landmarks)
    order = np.argsort(-score, kind="stable")[:_TOP_K]
    kept = _suppress(corners[order])[:_KEEP_TOP_K]
    chosen = order[kept]
    percent = (score[chosen].astype(np.float32) * np.float32(100)).astype(np.int16)
    xmin, ymin, xmax, ymax = corners[chosen].T
    xywh = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], 1).astype(np.int16)
    mask = percent > conf * 100
    return percent[mask], xywh[mask], points[chosen].astype(np.int16)[mask]


def _sigmoid(logits: Any) -> Any:
    return 1 / (1 + np.exp(-np.clip(logits, -_SIGMOID_CLIP, _SIGMOID_CLIP)))


def _suppress(corners: Any) -> list[int]:
    """Greedy non-maximum suppression over boxes already sorted best first (indices kept)."""
    kept: list[int] = []
    for index, box in enumerate(corners):
        if not kept:
            kept.append(index)
            continue
        others = corners[kept]
        width = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
        height = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
        overlap = np.where((width > 0) & (height > 0), width * height, 0)
        areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
        own = (box[2] - box[0]) * (box[3] - box[1])
        if np.all(overlap / (own + areas - overlap) <= _NMS_IOU):
            kept.append(index)
    return kept
