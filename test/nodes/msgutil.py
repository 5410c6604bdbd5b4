"""Message helpers shared by the test nodes: type discovery, random instances, deep comparison.

Only the ROS message Python packages are needed (no rclpy init): everything here works in any
process that can import the message classes.
"""

import array
import glob
import importlib
import math
import os
import random
import struct

# Types beyond test_msgs that every serialization / pub-sub test covers.
EXTRA_TYPES = ['std_msgs/msg/String', 'sensor_msgs/msg/Image', 'sensor_msgs/msg/PointCloud2']

INT_RANGES = {
    'int8': (-2**7, 2**7 - 1), 'uint8': (0, 2**8 - 1),
    'int16': (-2**15, 2**15 - 1), 'uint16': (0, 2**16 - 1),
    'int32': (-2**31, 2**31 - 1), 'uint32': (0, 2**32 - 1),
    'int64': (-2**63, 2**63 - 1), 'uint64': (0, 2**64 - 1),
    'char': (0, 255),
}
# Characters for random wstrings: ASCII, Latin-1, Greek, Cyrillic, CJK, Hangul (BMP, no surrogates).
WCHAR_RANGES = [(0x20, 0x7e), (0xa1, 0xff), (0x391, 0x3c9), (0x410, 0x44f), (0x4e00, 0x4e80),
                (0xac00, 0xac40), (0x2190, 0x21ff)]
# UTF-8 in plain strings too (ROS strings are bytes; rclpy encodes str as UTF-8).
SCHAR_RANGES = [(0x20, 0x7e), (0x20, 0x7e), (0x20, 0x7e), (0xe0, 0xff), (0x3b1, 0x3c9)]
SEQ_LENGTHS = [0, 1, 2, 3, 5, 7, 8, 13, 17]


def share_dirs_of(package, ament_prefix_path=None):
    """Directories <prefix>/share/<package> for every prefix in AMENT_PREFIX_PATH."""
    out = []
    if ament_prefix_path is None:
        ament_prefix_path = os.environ.get('AMENT_PREFIX_PATH', '')
    for prefix in ament_prefix_path.split(os.pathsep):
        d = os.path.join(prefix, 'share', package) if prefix else ''
        if d and os.path.isdir(d):
            out.append(d)
    return out


def list_test_msgs_types(ament_prefix_path=None):
    """Every message of test_msgs: the .msg files plus the .idl-only ones (Kilted's keyed types)."""
    names = set()
    for d in share_dirs_of('test_msgs', ament_prefix_path):
        for f in glob.glob(os.path.join(d, 'msg', '*.msg')) + glob.glob(os.path.join(d, 'msg', '*.idl')):
            names.add(os.path.splitext(os.path.basename(f))[0])
    return ['test_msgs/msg/' + n for n in sorted(names)]


def all_types(ament_prefix_path=None):
    return list_test_msgs_types(ament_prefix_path) + EXTRA_TYPES


def import_type(name):
    """'pkg/msg/Type' -> the message class."""
    pkg, kind, typ = name.split('/')
    return getattr(importlib.import_module(f'{pkg}.{kind}'), typ)


def fields_of(cls):
    """[(field name, rosidl_parser type)] in declaration order."""
    return list(zip(cls.get_fields_and_field_types().keys(), cls.SLOT_TYPES))


def _f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


class Generator:
    """Random values for rosidl_parser type descriptions, respecting bounds; never NaN."""

    def __init__(self, seed, max_seq=None):
        self.rng = random.Random(seed)
        self.max_seq = max_seq

    def seq_len(self, bound=None):
        choices = SEQ_LENGTHS if self.max_seq is None else [n for n in SEQ_LENGTHS if n <= self.max_seq]
        if bound is not None:
            choices = [n for n in choices if n <= bound] + [bound]
        return self.rng.choice(choices)

    def _chars(self, ranges, n):
        out = []
        for _ in range(n):
            lo, hi = self.rng.choice(ranges)
            out.append(chr(self.rng.randint(lo, hi)))
        return ''.join(out)

    def basic(self, typename):
        rng = self.rng
        if typename == 'boolean':
            return rng.random() < 0.5
        if typename == 'octet':
            return bytes([rng.randint(0, 255)])
        if typename in INT_RANGES:
            lo, hi = INT_RANGES[typename]
            # Favour the extremes now and then.
            r = rng.random()
            if r < 0.1:
                return lo
            if r < 0.2:
                return hi
            return rng.randint(lo, hi)
        if typename in ('float', 'double', 'long double'):
            r = rng.random()
            if r < 0.05:
                v = 0.0
            elif r < 0.1:
                v = -0.0
            elif r < 0.15:
                v = rng.choice([math.inf, -math.inf])
            else:
                v = rng.uniform(-1e6, 1e6) * (10.0 ** rng.randint(-20, 20))
            return _f32(v) if typename == 'float' else v
        if typename in ('char', 'wchar'):
            return rng.randint(0, 255)
        raise ValueError(f'unknown basic type {typename!r}')

    def string(self, bound=None, wide=False):
        if bound is not None:
            n = self.rng.randint(0, bound)
            # Bounds of plain strings count bytes: keep those ASCII.
            return self._chars(WCHAR_RANGES if wide else [(0x20, 0x7e)], n)
        n = self.rng.choice([0, 1, 2, 5, 13, 40, 100])
        return self._chars(WCHAR_RANGES if wide else SCHAR_RANGES, n)

    def value(self, t, depth=0):
        from rosidl_parser import definition as d
        if isinstance(t, d.BasicType):
            return self.basic(t.typename)
        if isinstance(t, d.BoundedString):
            return self.string(t.maximum_size)
        if isinstance(t, d.UnboundedString):
            return self.string()
        if isinstance(t, d.BoundedWString):
            return self.string(t.maximum_size, wide=True)
        if isinstance(t, d.UnboundedWString):
            return self.string(wide=True)
        if isinstance(t, d.NamespacedType):
            cls = import_type('/'.join(list(t.namespaces) + [t.name]))
            return self.message(cls, depth + 1)
        if isinstance(t, d.Array):
            return [self.value(t.value_type, depth) for _ in range(t.size)]
        if isinstance(t, d.BoundedSequence):
            n = self.seq_len(t.maximum_size)
            if depth > 1:
                n = min(n, 2)
            return [self.value(t.value_type, depth) for _ in range(n)]
        if isinstance(t, d.UnboundedSequence):
            n = self.seq_len()
            if depth > 1:
                n = min(n, 2)
            return [self.value(t.value_type, depth) for _ in range(n)]
        raise ValueError(f'unknown field type {t!r}')

    def message(self, cls, depth=0):
        msg = cls()
        for name, t in fields_of(cls):
            setattr(msg, name, self.value(t, depth))
        return msg


def default_instance(type_name):
    return import_type(type_name)()


def random_instances(type_name, count, seed):
    cls = import_type(type_name)
    out = []
    for i in range(count):
        gen = Generator(f'{seed}/{type_name}/{i}', max_seq=None if i % 2 == 0 else 3)
        out.append(gen.message(cls))
    return out


def make_instances(types, random_count, seed):
    """[{'type', 'label', 'msg'}] with one default and `random_count` random instances per type."""
    entries = []
    for t in types:
        entries.append({'type': t, 'label': 'default', 'msg': default_instance(t)})
        for i, m in enumerate(random_instances(t, random_count, seed)):
            entries.append({'type': t, 'label': f'random{i}', 'msg': m})
    return entries


def to_plain(v):
    """A message (or field value) as nested builtin values, for display."""
    import numpy
    if hasattr(v, 'get_fields_and_field_types'):
        return {k: to_plain(getattr(v, k)) for k in v.get_fields_and_field_types()}
    if isinstance(v, numpy.ndarray):
        return v.tolist()
    if isinstance(v, (array.array, list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, numpy.generic):
        return v.item()
    return v


def short(v, n=80):
    s = repr(v)
    return s if len(s) <= n else s[:n] + '...'


def _first_index(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y or (isinstance(x, float) and math.copysign(1, x) != math.copysign(1, y)):
            return i
    return min(len(a), len(b))


def first_difference(a, b, path='msg'):
    """None when `a` and `b` are equal (bit-exact for floats), else where and how they differ."""
    import numpy
    if hasattr(a, 'get_fields_and_field_types'):
        if type(a) is not type(b):
            return f'{path}: type {type(a).__name__} != {type(b).__name__}'
        for k in a.get_fields_and_field_types():
            d = first_difference(getattr(a, k), getattr(b, k), f'{path}.{k}')
            if d:
                return d
        return None
    if isinstance(a, (numpy.ndarray, array.array)):
        if isinstance(a, numpy.ndarray):
            same_kind = isinstance(b, numpy.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        else:
            same_kind = isinstance(b, array.array) and a.typecode == b.typecode
        if not same_kind:
            return f'{path}: {type(a).__name__} {short(a)} != {type(b).__name__} {short(b)}'
        if a.tobytes() == b.tobytes():
            return None
        la, lb = a.tolist(), b.tolist()
        if len(la) != len(lb):
            return f'{path}: length {len(la)} != {len(lb)}'
        i = _first_index(la, lb)
        return f'{path}[{i}]: expected {short(la[i])}, got {short(lb[i])}'
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)):
            return f'{path}: {short(a)} != {type(b).__name__} {short(b)}'
        if len(a) != len(b):
            return f'{path}: length {len(a)} != {len(b)}'
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f'{path}[{i}]')
            if d:
                return d
        return None
    if isinstance(a, float) and isinstance(b, float):
        if struct.pack('<d', a) != struct.pack('<d', b):
            return f'{path}: expected {a!r}, got {b!r}'
        return None
    if type(a) is not type(b):
        return f'{path}: {short(a)} ({type(a).__name__}) != {short(b)} ({type(b).__name__})'
    if a != b:
        return f'{path}: expected {short(a)}, got {short(b)}'
    return None


def compare(expected, actual):
    """None when the two messages are equal (field by field, bit-exact, and by the class's __eq__)."""
    d = first_difference(expected, actual)
    if d:
        return d
    if not (expected == actual):
        return 'messages differ by __eq__ although every field compares equal'
    return None


def is_keyed(type_name):
    """True when the type's own .idl declares @key members (DDS keyed topic: per-instance order)."""
    pkg, kind, typ = type_name.split('/')
    for d in share_dirs_of(pkg):
        p = os.path.join(d, kind, typ + '.idl')
        if os.path.isfile(p):
            with open(p, encoding='utf-8') as f:
                return '@key' in f.read()
    return False
