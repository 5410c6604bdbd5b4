#!/usr/bin/env python3
"""Demo processing node: takes rgb8 sensor_msgs/Image, halves it (every other row and column) and
republishes it with the same header (so the stamp still says when the camera took it).

Uses numpy when it is installed (≈3 ms for 1920x1080), plain Python slices otherwise (≈15 ms); both
give the same bytes. Prints once a second

    processor: STATS frames=<total> rate=<Hz> proc_ms=<mean time in the callback>

Used by launch/image_pipeline.launch.py and test/test_demos.py.
"""

import argparse
import array
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

try:
    import numpy
except ImportError:  # the PyPI ROS wheels do not need it
    numpy = None


def halve_rgb8(data, width, height, step, out=None):
    """Every other row and every other pixel of an rgb8 image: (array('B'), new width, new height).

    With numpy the result is written straight into `out` (an array('B') of the right size, reused
    from frame to frame): one strided copy, no allocation, and rclpy takes an array('B') as
    Image.data without converting it.
    """
    w2, h2 = width // 2, height // 2
    n = w2 * h2 * 3
    if out is None or len(out) != n:
        out = array.array('B', bytes(n))
    if numpy is not None:
        src = numpy.frombuffer(data, dtype=numpy.uint8).reshape(height, step)[:, :width * 3]
        dst = numpy.frombuffer(out, dtype=numpy.uint8).reshape(h2, w2, 3)
        dst[...] = src.reshape(height, width, 3)[0:h2 * 2:2, 0:w2 * 2:2]
        return out, w2, h2
    mv = memoryview(data)
    rows = b''.join(mv[y * step:y * step + w2 * 6] for y in range(0, h2 * 2, 2))
    buf = bytearray(n)
    for c in range(3):
        buf[c::3] = rows[c::6]
    out[:] = array.array('B', buf)
    return out, w2, h2


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--input', default='camera/image_raw')
    ap.add_argument('--output', default='camera/image_half')
    ap.add_argument('--depth', type=int, default=5, help='KEEP_LAST depth of both (RELIABLE)')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'processor')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import Image

    rclpy.init()
    common.announce_rmw('processor')
    node = rclpy.create_node('processor')
    pub = node.create_publisher(Image, args.output, args.depth)
    out = Image()
    buf = [None]
    state = {'n': 0, 'window': 0, 'busy': 0.0, 't_window': time.monotonic()}

    def on_image(msg):
        t0 = time.monotonic()
        if msg.encoding not in ('rgb8', 'bgr8'):
            node.get_logger().warning(f'cannot process encoding {msg.encoding!r}',
                                      throttle_duration_sec=5.0)
            return
        data, w2, h2 = halve_rgb8(msg.data, msg.width, msg.height, msg.step, buf[0])
        buf[0] = data
        out.header = msg.header
        out.height, out.width = h2, w2
        out.encoding, out.is_bigendian, out.step = msg.encoding, msg.is_bigendian, w2 * 3
        out.data = data
        pub.publish(out)
        now = time.monotonic()
        state['busy'] += now - t0
        state['n'] += 1
        state['window'] += 1
        dt = now - state['t_window']
        if dt >= 1.0:
            print(f'processor: STATS frames={state["n"]} rate={state["window"] / dt:.1f} '
                  f'proc_ms={1000 * state["busy"] / state["window"]:.1f}', flush=True)
            state['window'], state['busy'], state['t_window'] = 0, 0.0, now

    node.create_subscription(Image, args.input, on_image, args.depth)
    print(f'processor: ready ({"numpy" if numpy is not None else "pure Python"}), '
          f'{args.input} -> {args.output}', flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(f'processor: processed {state["n"]} frames', flush=True)
        common.shutdown(node)
    return 0


if __name__ == '__main__':
    sys.exit(main())
