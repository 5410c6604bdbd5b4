"""Writes the CDR bytes rmw_fastrtps_cpp produces (rclpy.serialization, rmw_serialize) for a few
filled messages into this folder as <name>.bin. The Rust tests in tests_real.rs decode them with
our codec and compare the re-encoding byte for byte (Fast DDS leaves padding uninitialized and
returns its estimated size, so padding and trailing bytes are masked).

Run: /work/venv/bin/python gen_fastrtps_fixtures.py  (Kilted wheels, no LD_PRELOAD)

Reverse check: run the Rust tests with RMW_SHM_RS_CDR_DUMP_DIR=DIR (they write our re-encoding
of each fixture there), then `gen_fastrtps_fixtures.py --check DIR`: rmw_fastrtps_cpp decodes
our bytes and the result must equal the original message.
"""
import os
import sys

from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import String
from test_msgs.msg import (Arrays, BasicTypes, BoundedSequences, MultiNested, Nested, Strings,
                           UnboundedSequences, WStrings)


def basic():
    return BasicTypes(bool_value=True, byte_value=b'\x12', char_value=0x41, float32_value=1.5,
                      float64_value=-2.25, int8_value=-3, uint8_value=200, int16_value=-1000,
                      uint16_value=60000, int32_value=-100000, uint32_value=4000000000,
                      int64_value=-5, uint64_value=2**63 + 7)


def fixtures():
    s = Strings()
    s.string_value = 'hello'
    s.bounded_string_value = 'x' * 22
    w = WStrings()
    w.wstring_value = 'a\u00e9'
    w.wstring_value_default3 = '\u30cf'
    w.array_of_wstrings = ['x', '', 'yz']
    w.bounded_sequence_of_wstrings = ['q']
    w.unbounded_sequence_of_wstrings = ['\U0001F600', '']
    u = UnboundedSequences()
    u.bool_values = [True, False, True]
    u.float64_values = [1.0, -2.0]
    u.int8_values = [5]
    u.string_values = ['a', 'bc']
    u.basic_types_values = [basic(), BasicTypes()]
    mn = MultiNested()
    mn.unbounded_sequence_of_unbounded_sequences = [u, UnboundedSequences()]
    mn.bounded_sequence_of_arrays = [Arrays()]
    img = Image(height=2, width=3, encoding='rgb8', is_bigendian=0, step=9, data=bytes(range(18)))
    img.header.frame_id = 'cam'
    img.header.stamp.sec = 7
    img.header.stamp.nanosec = 9
    return {
        'basic_types': basic(),
        'std_string': String(data='hi'),
        'strings': s,
        'wstrings': w,
        'arrays': Arrays(),
        'bounded_sequences': BoundedSequences(),
        'unbounded_sequences': u,
        'nested': Nested(basic_types_value=basic()),
        'multi_nested': mn,
        'image': img,
    }


def check(folder):
    for name, msg in fixtures().items():
        with open(os.path.join(folder, name + '.bin'), 'rb') as f:
            ours = f.read()
        back = deserialize_message(ours, type(msg))
        assert back == msg, name
        print('ok', name, len(ours), 'bytes')


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        check(sys.argv[2])
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for name, msg in fixtures().items():
        with open(os.path.join(here, name + '.bin'), 'wb') as f:
            f.write(serialize_message(msg))


if __name__ == '__main__':
    main()
