#!/usr/bin/env python3
"""rclpy listener: prints every std_msgs/String it receives as "I heard: '<data>'" (default QoS).

Used by scripts/demo.sh, launch/talker_listener.launch.py and the tests.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--topic', default='chatter')
    ap.add_argument('--count', type=int, default=0, help='exit after this many messages, 0 = never')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'listener')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from std_msgs.msg import String

    rclpy.init()
    common.announce_rmw('listener')
    node = rclpy.create_node('listener')
    received = []

    def on_msg(msg):
        received.append(msg.data)
        print(f"I heard: '{msg.data}'", flush=True)

    node.create_subscription(String, args.topic, on_msg, 10)
    print('listener: ready', flush=True)
    try:
        while args.count == 0 or len(received) < args.count:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(f'listener: received {len(received)} messages', flush=True)
        common.shutdown(node)
    return 0


if __name__ == '__main__':
    sys.exit(main())
