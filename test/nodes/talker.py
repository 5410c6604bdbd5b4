#!/usr/bin/env python3
"""rclpy talker: publishes std_msgs/String 'Hello World: N' on a topic with default QoS (depth 10).

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
    ap.add_argument('--count', type=int, default=0, help='messages to publish, 0 = until stopped')
    ap.add_argument('--period', type=float, default=0.25, help='seconds between messages')
    ap.add_argument('--wait-match', type=float, default=0.0,
                    help='first wait up to this many seconds for a subscription to match (0: do not)')
    ap.add_argument('--linger', type=float, default=10.0,
                    help='after the last message, wait up to this long for the subscribers to leave')
    ap.add_argument('--watchdog', type=float, default=0.0, help='exit after this many seconds')
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, 'talker')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from std_msgs.msg import String

    rclpy.init()
    common.announce_rmw('talker')
    node = rclpy.create_node('talker')
    pub = node.create_publisher(String, args.topic, 10)
    code = 0
    try:
        if args.wait_match > 0:
            if not common.wait_until(lambda: pub.get_subscription_count() >= 1, args.wait_match,
                                     spin=lambda t: rclpy.spin_once(node, timeout_sec=t)):
                print(f'talker: no subscription matched within {args.wait_match} s', flush=True)
                return 2
            print('talker: subscription matched', flush=True)
        n = 0
        while args.count == 0 or n < args.count:
            n += 1
            msg = String()
            msg.data = f'Hello World: {n}'
            print(f"Publishing: '{msg.data}'", flush=True)
            pub.publish(msg)
            if args.period > 0:
                rclpy.spin_once(node, timeout_sec=args.period)
        print(f'talker: published {n} messages', flush=True)
        common.wait_until(lambda: pub.get_subscription_count() == 0, args.linger,
                          spin=lambda t: rclpy.spin_once(node, timeout_sec=t))
    except (KeyboardInterrupt, ExternalShutdownException):
        print('talker: stopped', flush=True)
    finally:
        common.shutdown(node)
    return code


if __name__ == '__main__':
    sys.exit(main())
