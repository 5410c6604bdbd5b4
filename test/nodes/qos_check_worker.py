"""Prints rclpy.qos.qos_check_compatible's verdict and reason for a grid of publisher and
subscription profiles (reliability x durability, liveliness x deadline/lease), one JSON list."""

import itertools
import json

from common import announce_rmw


def main():
    import rclpy
    from rclpy.duration import Duration
    from rclpy.qos import DurabilityPolicy as D
    from rclpy.qos import LivelinessPolicy as L
    from rclpy.qos import QoSProfile, qos_check_compatible
    from rclpy.qos import ReliabilityPolicy as R
    rclpy.init()
    announce_rmw('qos_check')
    rels = [R.RELIABLE, R.BEST_EFFORT, R.SYSTEM_DEFAULT, R.BEST_AVAILABLE]
    durs = [D.VOLATILE, D.TRANSIENT_LOCAL, D.SYSTEM_DEFAULT, D.BEST_AVAILABLE]
    livs = [L.AUTOMATIC, L.MANUAL_BY_TOPIC, L.SYSTEM_DEFAULT, L.BEST_AVAILABLE]
    times = [Duration(), Duration(seconds=1), Duration(seconds=2)]
    out = []
    for pr, sr, pd, sd in itertools.product(rels, rels, durs, durs):
        p = QoSProfile(depth=1, reliability=pr, durability=pd, liveliness=L.AUTOMATIC)
        s = QoSProfile(depth=1, reliability=sr, durability=sd, liveliness=L.AUTOMATIC)
        verdict, reason = qos_check_compatible(p, s)
        out.append([int(pr), int(sr), int(pd), int(sd), int(verdict), reason])
    for pl, sl, a, b in itertools.product(livs, livs, times, times):
        p = QoSProfile(depth=1, liveliness=pl, deadline=a, liveliness_lease_duration=a)
        s = QoSProfile(depth=1, liveliness=sl, deadline=b, liveliness_lease_duration=b)
        verdict, reason = qos_check_compatible(p, s)
        out.append([int(pl), int(sl), a.nanoseconds, b.nanoseconds, int(verdict), reason])
    print('GRID ' + json.dumps(out), flush=True)
    rclpy.shutdown()


if __name__ == '__main__':
    main()
