#!/usr/bin/env python3
"""Demo camera: publishes sensor_msgs/Image (default 1920x1080 rgb8, 6.2 MB) at a fixed rate.

One message is built once (a colour-gradient test pattern) and re-published with header.stamp = now,
so the node spends its time in ROS, not in drawing. Prints once a second

    camera: STATS published=<total> rate=<Hz over the last second>

Used by launch/image_pipeline.launch.py and test/test_demos.py (camera -> demo_processor.py ->
demo_consumer.py).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def test_pattern(width, height):
    """rgb8 bytes: red grows left to right, green top to bottom, blue is a fixed band pattern."""
    row = bytearray(width * 3)
    row[0::3] = bytes((x * 256 // width) for x in range(width))
    row[2::3] = bytes(((x // 64) % 2) * 255 for x in range(width))
    out = bytearray()
    for y in range(height):
        g = y * 256 // height
        row[1::3] = bytes([g]) * width
        out += row
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--topic', default='camera/image_raw')
    ap.add_argument('--width', type=int, default=1920)
    ap.add_argument('--height', type=int, default=1080)
    ap.add_argument('--rate', type=float, default=30.0, help='frames per second')
    ap.add_argument('--duration', type=float, default=0.0,
                    help='stop after this many seconds of publishing, 0 = until stopped')
    ap.add_argument('--depth', type=int, default=5, help='KEEP_LAST depth (RELIABLE)')
    ap.add_argument('--wait-match', type=float, default=0.0,
                    help='first wait up to this many seconds for a subscription (0: do not)')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'camera')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import Image

    rclpy.init()
    common.announce_rmw('camera')
    node = rclpy.create_node('camera')
    pub = node.create_publisher(Image, args.topic, args.depth)
    msg = Image()
    msg.header.frame_id = 'camera'
    msg.height, msg.width = args.height, args.width
    msg.encoding = 'rgb8'
    msg.is_bigendian = 0
    msg.step = args.width * 3
    msg.data = test_pattern(args.width, args.height)
    print(f'camera: {args.width}x{args.height} rgb8 ({len(msg.data)} bytes) at {args.rate} Hz '
          f'on {pub.topic_name}', flush=True)

    state = {'n': 0, 'window': 0, 't_window': time.monotonic(), 'start': None}

    def tick():
        now = time.monotonic()
        if state['start'] is None:
            state['start'] = now
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)
        state['n'] += 1
        state['window'] += 1
        dt = now - state['t_window']
        if dt >= 1.0:
            print(f'camera: STATS published={state["n"]} rate={state["window"] / dt:.1f}',
                  flush=True)
            state['window'], state['t_window'] = 0, now

    try:
        if args.wait_match > 0:
            if not common.wait_until(lambda: pub.get_subscription_count() >= 1, args.wait_match,
                                     spin=lambda t: rclpy.spin_once(node, timeout_sec=t)):
                print(f'camera: no subscription matched within {args.wait_match} s', flush=True)
                return 2
            print('camera: subscription matched', flush=True)
        state['t_window'] = time.monotonic()
        node.create_timer(1.0 / args.rate, tick)
        while args.duration <= 0 or state['start'] is None \
                or time.monotonic() - state['start'] < args.duration:
            rclpy.spin_once(node, timeout_sec=0.1)
        took = time.monotonic() - state['start']
        print(f'camera: TOTAL published={state["n"]} seconds={took:.2f} '
              f'rate={state["n"] / took:.2f}', flush=True)
    except (KeyboardInterrupt, ExternalShutdownException):
        print(f'camera: stopped after {state["n"]} frames', flush=True)
    finally:
        common.shutdown(node)
    return 0


if __name__ == '__main__':
    sys.exit(main())
