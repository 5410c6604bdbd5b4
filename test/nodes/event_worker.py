"""QoS event test node: every event rclpy can subscribe to is printed as 'EVENT <kind> <json>'.

  lost_pub   publishes 'first', waits --gap s, then --count more messages back to back.
  lost_sub   KEEP_LAST 1 best-effort subscription; spins until 'first' arrives, then does not
             spin for --pause s (the burst overflows its queue), then spins --duration s.
  dl_pub     publishes at 20 Hz for --active s with a --deadline (ms) QoS, then stays silent.
  dl_sub     subscription with a --deadline (ms) QoS; spins --duration s.
  be_pub     best-effort publisher (incompatible with a reliable subscription); spins.
  rel_sub    reliable subscription; spins --duration s.
"""

import argparse
import json
import time

from common import announce_rmw, install_watchdog


def printer(kind):
    def cb(info):
        d = {k: getattr(info, k) for k in dir(info) if not k.startswith('_') and
             isinstance(getattr(info, k), (int, float))}
        if hasattr(info, 'last_policy_kind'):
            d['last_policy_kind'] = int(info.last_policy_kind)
        print(f'EVENT {kind} {json.dumps(d)}', flush=True)
    return cb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode')
    ap.add_argument('--topic', default='/events')
    ap.add_argument('--count', type=int, default=20)
    ap.add_argument('--gap', type=float, default=1.0)
    ap.add_argument('--pause', type=float, default=1.5)
    ap.add_argument('--active', type=float, default=1.0)
    ap.add_argument('--deadline', type=int, default=200)
    ap.add_argument('--duration', type=float, default=3.0)
    ap.add_argument('--watchdog', type=float, default=60)
    a = ap.parse_args()
    install_watchdog(a.watchdog, a.mode)
    import rclpy
    from rclpy.duration import Duration
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    rclpy.init()
    announce_rmw(a.mode)
    node = rclpy.create_node(f'ev_{a.mode}')
    pub_cbs = PublisherEventCallbacks(deadline=printer('offered_deadline'),
                                      incompatible_qos=printer('offered_incompatible'),
                                      matched=printer('pub_matched'))
    sub_cbs = SubscriptionEventCallbacks(deadline=printer('requested_deadline'),
                                         incompatible_qos=printer('requested_incompatible'),
                                         message_lost=printer('message_lost'),
                                         matched=printer('sub_matched'))
    got = []
    on_msg = lambda m: (got.append(m.data), print(f'GOT {m.data}', flush=True))

    def spin_for(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.02)

    if a.mode == 'lost_pub':
        pub = node.create_publisher(String, a.topic, QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        while pub.get_subscription_count() < 1:
            spin_for(0.02)
        pub.publish(String(data='first'))
        spin_for(a.gap)
        for i in range(a.count):
            pub.publish(String(data=f'burst{i}'))
        print('lost_pub: burst sent', flush=True)
        spin_for(a.duration)
    elif a.mode == 'lost_sub':
        node.create_subscription(String, a.topic, on_msg,
                                 QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT),
                                 event_callbacks=sub_cbs)
        while 'first' not in got:
            spin_for(0.02)
        time.sleep(a.pause)
        spin_for(a.duration)
    elif a.mode == 'dl_pub':
        q = QoSProfile(depth=10, deadline=Duration(nanoseconds=a.deadline * 1_000_000))
        pub = node.create_publisher(String, a.topic, q, event_callbacks=pub_cbs)
        end = time.monotonic() + a.active
        i = 0
        while time.monotonic() < end:
            pub.publish(String(data=f'dl{i}'))
            i += 1
            spin_for(0.05)
        print('dl_pub: stopped', flush=True)
        spin_for(a.duration)
    elif a.mode == 'dl_sub':
        q = QoSProfile(depth=10, deadline=Duration(nanoseconds=a.deadline * 1_000_000))
        node.create_subscription(String, a.topic, on_msg, q, event_callbacks=sub_cbs)
        spin_for(a.duration)
    elif a.mode == 'be_pub':
        node.create_publisher(String, a.topic, QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT),
                              event_callbacks=pub_cbs)
        spin_for(a.duration)
    elif a.mode == 'rel_sub':
        node.create_subscription(String, a.topic, on_msg, QoSProfile(depth=10), event_callbacks=sub_cbs)
        spin_for(a.duration)
    print(f'{a.mode}: done', flush=True)
    rclpy.shutdown()


if __name__ == '__main__':
    main()
