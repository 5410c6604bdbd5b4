#!/usr/bin/env python3
"""Demo rclpy chatter for the mixed rclpy + r2r graph: publishes std_msgs/String
"rclpy chatter: N" on a topic (default /chatter) every --period seconds and subscribes to the same
topic, printing what the other nodes (the r2r talker) publish as "heard: '<data>'" (its own messages
are not printed). Prints "chatter: TOTAL published=N heard=M" at the end.

Used by launch/mixed_r2r.launch.py and test/test_demos.py.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

PREFIX = 'rclpy chatter: '


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--topic', default='/chatter')
    ap.add_argument('--period', type=float, default=0.1, help='seconds between messages')
    ap.add_argument('--duration', type=float, default=0.0, help='stop after this long, 0 = never')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'chatter')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from std_msgs.msg import String

    rclpy.init()
    common.announce_rmw('chatter')
    node = rclpy.create_node('rclpy_chatter')
    pub = node.create_publisher(String, args.topic, 10)
    counts = {'published': 0, 'heard': 0}

    def on_msg(msg):
        if not msg.data.startswith(PREFIX):
            counts['heard'] += 1
            print(f"heard: '{msg.data}'", flush=True)

    def tick():
        counts['published'] += 1
        pub.publish(String(data=f'{PREFIX}{counts["published"]}'))

    node.create_subscription(String, args.topic, on_msg, 10)
    node.create_timer(args.period, tick)
    print(f'chatter: ready on {pub.topic_name}', flush=True)
    start = time.monotonic()
    try:
        while args.duration <= 0 or time.monotonic() - start < args.duration:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(f'chatter: TOTAL published={counts["published"]} heard={counts["heard"]}', flush=True)
        common.shutdown(node)
    return 0


if __name__ == '__main__':
    sys.exit(main())
