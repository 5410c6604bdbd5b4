#!/usr/bin/env python3
"""Demo consumer: receives sensor_msgs/Image and prints, once a second, the rate and the latency
from header.stamp (set by the camera) to the moment the callback runs:

    consumer: STATS frames=<total> rate=<Hz> latency_ms=<mean> max_ms=<max> size=<w>x<h>

With --duration it stops that many seconds after the first frame and prints a summary

    consumer: TOTAL frames=<n> seconds=<s> rate=<Hz> latency_ms_mean=.. p50=.. p95=.. max=..

Used by launch/image_pipeline.launch.py and test/test_demos.py.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--topic', default='camera/image_half')
    ap.add_argument('--depth', type=int, default=5, help='KEEP_LAST depth (RELIABLE)')
    ap.add_argument('--duration', type=float, default=0.0,
                    help='stop this many seconds after the first frame, 0 = never')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'consumer')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import Image

    rclpy.init()
    common.announce_rmw('consumer')
    node = rclpy.create_node('consumer')
    clock = node.get_clock()
    lat_all = []
    state = {'first': None, 'last': None, 'window': [], 't_window': None, 'size': ''}

    def on_image(msg):
        now_ns = clock.now().nanoseconds
        t = time.monotonic()
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        lat = (now_ns - stamp_ns) / 1e6
        lat_all.append(lat)
        state['window'].append(lat)
        state['size'] = f'{msg.width}x{msg.height}'
        if state['first'] is None:
            state['first'] = state['t_window'] = t
        state['last'] = t
        dt = t - state['t_window']
        if dt >= 1.0:
            w = state['window']
            print(f'consumer: STATS frames={len(lat_all)} rate={(len(w) - 1) / dt:.1f} '
                  f'latency_ms={sum(w) / len(w):.1f} max_ms={max(w):.1f} size={state["size"]}',
                  flush=True)
            state['window'], state['t_window'] = [lat], t

    node.create_subscription(Image, args.topic, on_image, args.depth)
    print(f'consumer: ready on {args.topic}', flush=True)
    try:
        while args.duration <= 0 or state['first'] is None \
                or time.monotonic() - state['first'] < args.duration:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        n = len(lat_all)
        if n >= 2:
            s = sorted(lat_all)
            took = state['last'] - state['first']
            print(f'consumer: TOTAL frames={n} seconds={took:.2f} rate={(n - 1) / took:.2f} '
                  f'latency_ms_mean={sum(s) / n:.1f} p50={s[n // 2]:.1f} '
                  f'p95={s[min(n - 1, int(n * 0.95))]:.1f} max={s[-1]:.1f} size={state["size"]}',
                  flush=True)
        else:
            print(f'consumer: TOTAL frames={n}', flush=True)
        common.shutdown(node)
    return 0


if __name__ == '__main__':
    sys.exit(main())
