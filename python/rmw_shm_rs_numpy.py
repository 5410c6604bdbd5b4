"""numpy views of large ROS 2 arrays without a copy, for plain rclpy (any RMW).

rclpy can hand a subscription callback the serialized message (``raw=True``: a ``bytes`` object
with the CDR bytes) and publish a serialized message (``publisher.publish(some_bytes)``). This
module parses and builds that CDR (XCDR1, little endian: the 4-byte encapsulation header
``00 01 00 00``, then the fields, each aligned to its size relative to the byte after the header)
for the message types that carry big arrays:

  sensor_msgs/msg/Image                  image_view(raw) / image_array(raw) / image_to_cdr(...)
  std_msgs/msg/<T>MultiArray             multiarray_view(raw, dtype) / multiarray_to_cdr(arr)
  (Float32, Float64, Int8..Int64, UInt8..UInt64, Byte)

Receiving: the array returned is ``np.frombuffer(raw, dtype, count, offset)``, a read-only view
into the ``bytes`` object rclpy took from the RMW: no copy beyond the one rclpy itself makes when it
turns the RMW's serialized buffer into ``bytes``. ``arr.base is raw`` and ``arr.flags.owndata`` is
False; the view keeps ``raw`` alive. Call ``arr.copy()`` if you need a writable array.

Publishing: ``image_to_cdr``/``multiarray_to_cdr`` build the whole serialized message as one
``bytes`` object with exactly one copy of the array's bytes (small header + buffer of the array,
concatenated once); ``publisher.publish(cdr)`` then sends it. (rclpy's ``publish_raw`` binding
copies the ``bytes`` into a std::string before rcl sees it; that copy is inside rclpy.)

Usage::

    import rmw_shm_rs_numpy as rnp
    sub = node.create_subscription(Image, 'image', lambda raw: use(rnp.image_array(raw)), qos,
                                   raw=True)
    pub.publish(rnp.image_to_cdr(frame, encoding='rgb8'))

Only little-endian hosts and little-endian CDR (what every ROS 2 RMW writes on x86/ARM) are
supported; anything else raises ValueError.
"""

import struct
from collections import namedtuple

import numpy as np

__all__ = ['ImageInfo', 'image_view', 'image_array', 'image_to_cdr', 'multiarray_view',
           'multiarray_to_cdr', 'ENCODINGS', 'MULTIARRAY_DTYPES']

_HDR = b'\x00\x01\x00\x00'  # CDR_LE encapsulation, options 0
_U32 = struct.Struct('<I')

ImageInfo = namedtuple('ImageInfo', 'sec nanosec frame_id height width encoding is_bigendian step')

# sensor_msgs image encodings -> (dtype, channels)
ENCODINGS = {
    'mono8': ('u1', 1), 'mono16': ('u2', 1), 'rgb8': ('u1', 3), 'bgr8': ('u1', 3),
    'rgba8': ('u1', 4), 'bgra8': ('u1', 4), 'rgb16': ('u2', 3), 'bgr16': ('u2', 3),
    'rgba16': ('u2', 4), 'bgra16': ('u2', 4), '8UC1': ('u1', 1), '8UC3': ('u1', 3),
    '8UC4': ('u1', 4), '8SC1': ('i1', 1), '16UC1': ('u2', 1), '16SC1': ('i2', 1),
    '32SC1': ('i4', 1), '32FC1': ('f4', 1), '32FC3': ('f4', 3), '64FC1': ('f8', 1),
    'yuv422': ('u1', 2), 'bayer_rggb8': ('u1', 1), 'bayer_bggr8': ('u1', 1),
    'bayer_gbrg8': ('u1', 1), 'bayer_grbg8': ('u1', 1),
}

# std_msgs/<Name>MultiArray -> numpy dtype of its `data` sequence
MULTIARRAY_DTYPES = {
    'Float32MultiArray': 'f4', 'Float64MultiArray': 'f8', 'Int8MultiArray': 'i1',
    'Int16MultiArray': 'i2', 'Int32MultiArray': 'i4', 'Int64MultiArray': 'i8',
    'UInt8MultiArray': 'u1', 'UInt16MultiArray': 'u2', 'UInt32MultiArray': 'u4',
    'UInt64MultiArray': 'u8', 'ByteMultiArray': 'u1',
}


class _Reader:
    """CDR reader over a buffer; `pos` is absolute, alignment is relative to byte 4."""

    def __init__(self, raw):
        self.mv = memoryview(raw).cast('B')
        if len(self.mv) < 4:
            raise ValueError('not a CDR message: shorter than the encapsulation header')
        if self.mv[0] != 0 or self.mv[1] != 1:
            raise ValueError(f'unsupported CDR encapsulation {bytes(self.mv[:2]).hex()} '
                             '(only XCDR1 little endian, 00 01)')
        self.pos = 4

    def align(self, n):
        self.pos += (-(self.pos - 4)) % n

    def _need(self, n):
        if self.pos + n > len(self.mv):
            raise ValueError(f'truncated CDR message: need {n} bytes at {self.pos}, '
                             f'have {len(self.mv)}')

    def unpack(self, fmt, size):
        self.align(size)
        self._need(size)
        v = struct.unpack_from(fmt, self.mv, self.pos)[0]
        self.pos += size
        return v

    def u32(self):
        return self.unpack('<I', 4)

    def string(self):
        n = self.u32()
        self._need(n)
        s = bytes(self.mv[self.pos:self.pos + max(n - 1, 0)]).decode('utf-8')
        self.pos += n
        return s

    def seq_view(self, raw, dtype):
        dtype = np.dtype(dtype).newbyteorder('<')
        n = self.u32()
        if n:
            self.align(dtype.itemsize)
        self._need(n * dtype.itemsize)
        arr = np.frombuffer(raw, dtype=dtype, count=n, offset=self.pos)
        self.pos += n * dtype.itemsize
        return arr


class _Writer:
    """Builds the small CDR prefix; `pos` counts the final message (header included)."""

    def __init__(self):
        self.parts = [_HDR]
        self.pos = 4

    def align(self, n):
        pad = (-(self.pos - 4)) % n
        if pad:
            self.parts.append(b'\0' * pad)
            self.pos += pad

    def pack(self, fmt, size, v):
        self.align(size)
        self.parts.append(struct.pack(fmt, v))
        self.pos += size

    def u32(self, v):
        self.pack('<I', 4, v)

    def string(self, s):
        b = s.encode('utf-8') + b'\0'
        self.u32(len(b))
        self.parts.append(b)
        self.pos += len(b)

    def finish_with_seq(self, arr):
        """Sequence length + alignment, then the array: ONE copy of its bytes into the result."""
        self.u32(arr.size)
        if arr.size:
            self.align(arr.dtype.itemsize)
        prefix = b''.join(self.parts)
        return prefix + memoryview(arr).cast('B')   # bytes + buffer: a single allocation + copy


def _le_contiguous(arr):
    arr = np.asarray(arr)
    if arr.dtype.byteorder == '>' or (arr.dtype.byteorder == '=' and not _little()):
        arr = arr.astype(arr.dtype.newbyteorder('<'))
    return np.ascontiguousarray(arr)   # no copy when it already is


def _little():
    import sys
    return sys.byteorder == 'little'


# ---- sensor_msgs/msg/Image ------------------------------------------------------------------

def image_view(raw):
    """(ImageInfo, data) of a serialized sensor_msgs/msg/Image: `data` is a 1-D uint8 view of `raw`."""
    r = _Reader(raw)
    sec = r.unpack('<i', 4)
    nanosec = r.u32()
    frame_id = r.string()
    height = r.u32()
    width = r.u32()
    encoding = r.string()
    is_bigendian = r.unpack('<B', 1)
    step = r.u32()
    data = r.seq_view(raw, 'u1')
    return ImageInfo(sec, nanosec, frame_id, height, width, encoding, is_bigendian, step), data


def image_array(raw, with_info=False):
    """The image as a numpy view shaped (height, width[, channels]) with the encoding's dtype.

    Rows padded beyond width*channels*itemsize (step larger) give a strided view, still no copy.
    Unknown encodings give the (height, step) uint8 view.
    """
    info, data = image_view(raw)
    enc = ENCODINGS.get(info.encoding)
    h, w, step = info.height, info.width, info.step
    if enc is None or h == 0:
        arr = data.reshape(h, step) if h and step and len(data) >= h * step else data
    else:
        dt = np.dtype(enc[0]).newbyteorder('>' if info.is_bigendian else '<')
        ch = enc[1]
        row = w * ch * dt.itemsize
        if step < row or len(data) < h * step:
            raise ValueError(f'image data too short: {len(data)} bytes for {h}x{w} {info.encoding} '
                             f'step {step}')
        rows = data[:h * step].reshape(h, step)[:, :row]
        arr = rows.view(dt)  # last axis contiguous: a view, also for padded rows
        arr = arr.reshape(h, w, ch) if ch > 1 else arr.reshape(h, w)
    return (info, arr) if with_info else arr


def image_to_cdr(arr, encoding=None, frame_id='', stamp=(0, 0)):
    """Serialized sensor_msgs/msg/Image (bytes) holding `arr` (H x W [x C]); one copy of `arr`.

    `encoding` defaults from the shape/dtype (mono8, rgb8, 16UC1, 32FC1, ...). `stamp` is
    (sec, nanosec) or an object with `sec`/`nanosec` (builtin_interfaces/Time).
    """
    arr = _le_contiguous(arr)
    if arr.ndim == 2:
        h, w, ch = arr.shape[0], arr.shape[1], 1
    elif arr.ndim == 3:
        h, w, ch = arr.shape
    elif arr.ndim == 1:
        h, w, ch = 1, arr.shape[0], 1
    else:
        raise ValueError(f'image array must have 1 to 3 dimensions, not {arr.ndim}')
    if encoding is None:
        encoding = _default_encoding(arr.dtype, ch)
    sec, nanosec = (stamp.sec, stamp.nanosec) if hasattr(stamp, 'sec') else stamp
    wr = _Writer()
    wr.pack('<i', 4, sec)
    wr.u32(nanosec)
    wr.string(frame_id)
    wr.u32(h)
    wr.u32(w)
    wr.string(encoding)
    wr.pack('<B', 1, 0)
    wr.u32(w * ch * arr.dtype.itemsize)
    flat = arr.reshape(-1).view(np.uint8)  # a view: contiguous
    return wr.finish_with_seq(flat)


def _default_encoding(dtype, ch):
    name = {('u1', 1): 'mono8', ('u1', 3): 'rgb8', ('u1', 4): 'rgba8', ('u2', 1): 'mono16',
            ('u2', 3): 'rgb16', ('u2', 4): 'rgba16'}.get((dtype.str[1:], ch))
    if name:
        return name
    bits = dtype.itemsize * 8
    kind = {'u': 'U', 'i': 'S', 'f': 'F'}.get(dtype.kind)
    if kind is None or ch > 4:
        raise ValueError(f'no image encoding for dtype {dtype} with {ch} channels: pass encoding=')
    return f'{bits}{kind}C{ch}'


# ---- std_msgs/msg/<T>MultiArray ---------------------------------------------------------------

def multiarray_view(raw, dtype, with_layout=False):
    """The `data` of a serialized std_msgs/msg/<T>MultiArray as a 1-D view of `raw`.

    `dtype`: numpy dtype of the sequence ('f8' for Float64MultiArray, or the type name, e.g.
    'Float32MultiArray'). with_layout=True also returns ([(label, size, stride), ...], data_offset).
    """
    dtype = MULTIARRAY_DTYPES.get(dtype, dtype)
    r = _Reader(raw)
    ndim = r.u32()
    dims = []
    for _ in range(ndim):
        label = r.string()
        size = r.u32()
        stride = r.u32()
        dims.append((label, size, stride))
    data_offset = r.u32()
    data = r.seq_view(raw, dtype)
    return (data, (dims, data_offset)) if with_layout else data


def multiarray_shaped(raw, dtype):
    """multiarray_view reshaped to the layout's dim sizes when they match (else 1-D)."""
    data, (dims, off) = multiarray_view(raw, dtype, with_layout=True)
    shape = tuple(d[1] for d in dims)
    if dims and off == 0 and int(np.prod(shape)) == data.size:
        return data.reshape(shape)
    return data


def multiarray_to_cdr(arr, labels=None):
    """Serialized std_msgs/msg/<T>MultiArray (bytes) of `arr`, with a row-major layout of its
    shape (one dim per axis, labels '' unless given); one copy of `arr`'s bytes. The message type
    must match arr.dtype (float64 -> Float64MultiArray, float32 -> Float32MultiArray, ...)."""
    arr = _le_contiguous(arr)
    wr = _Writer()
    shape = arr.shape if arr.ndim else (1,)
    wr.u32(len(shape))
    strides = [int(np.prod(shape[i:])) for i in range(len(shape))]
    for i, (size, stride) in enumerate(zip(shape, strides)):
        wr.string(labels[i] if labels else '')
        wr.u32(size)
        wr.u32(stride)
    wr.u32(0)  # data_offset
    return wr.finish_with_seq(arr.reshape(-1))
