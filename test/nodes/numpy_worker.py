#!/usr/bin/env python3
"""numpy helper (python/rmw_shm_rs_numpy.py) publisher / subscriber, for test/test_numpy.py and
bench/numpy_bench.py.

  numpy_worker.py pub  --kind image|f64 [--api helper|plain] [--mib 4] [--period 0.1] [--seconds 0]
  numpy_worker.py sub  --kind image|f64 [--api helper|plain] [--mib 4] [--count 3] [--seconds 0]

Test mode (--seconds 0): pub publishes the seeded array every --period until its subscriber
leaves; sub takes --count messages, checks each equals the seeded array and that it is a view of the
received bytes, prints 'numpy_sub: OK <n>' and exits 0.
Bench mode (--seconds S > 0): pub publishes back to back; sub counts what arrives for S seconds
after its first message and prints 'numpy_sub: RESULT {json}' (messages, bytes, MB/s).
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'python'))

import common  # noqa: E402


def expected_array(kind, mib, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    nbytes = int(mib * (1 << 20))
    if kind == 'image':
        # rgba8 image of nbytes: width 1024 -> 4096 bytes a row
        w = 1024
        h = max(1, nbytes // (w * 4))
        return rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    return rng.standard_normal(nbytes // 8)  # float64


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('role', choices=('pub', 'sub'))
    ap.add_argument('--kind', choices=('image', 'f64'), default='image')
    ap.add_argument('--api', choices=('helper', 'plain'), default='helper')
    ap.add_argument('--topic', default='numpy_data')
    ap.add_argument('--mib', type=float, default=4.0)
    ap.add_argument('--seed', type=int, default=20261121)
    ap.add_argument('--count', type=int, default=3)
    ap.add_argument('--period', type=float, default=0.1)
    ap.add_argument('--seconds', type=float, default=0.0)
    ap.add_argument('--wait-match', type=float, default=20.0)
    ap.add_argument('--watchdog', type=float, default=60.0)
    args = ap.parse_args()
    name = f'numpy_{args.role}'
    common.install_watchdog(args.watchdog, name)

    import numpy as np
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSProfile, ReliabilityPolicy, HistoryPolicy
    import rmw_shm_rs_numpy as rnp
    if args.kind == 'image':
        from sensor_msgs.msg import Image as Msg
    else:
        from std_msgs.msg import Float64MultiArray as Msg

    qos = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
    rclpy.init()
    common.announce_rmw(name)
    node = rclpy.create_node(name)
    arr = expected_array(args.kind, args.mib, args.seed)
    print(f'{name}: {args.kind} {arr.shape} {arr.dtype} {arr.nbytes} bytes, api {args.api}', flush=True)
    try:
        if args.role == 'pub':
            return run_pub(args, node, Msg, qos, arr, rnp, np, rclpy)
        return run_sub(args, node, Msg, qos, arr, rnp, np, rclpy)
    except (KeyboardInterrupt, ExternalShutdownException):
        print(f'{name}: stopped', flush=True)
        return 0
    finally:
        common.shutdown(node)


def run_pub(args, node, Msg, qos, arr, rnp, np, rclpy):
    pub = node.create_publisher(Msg, args.topic, qos)
    if not common.wait_until(lambda: pub.get_subscription_count() >= 1, args.wait_match,
                             spin=lambda t: rclpy.spin_once(node, timeout_sec=t)):
        print('numpy_pub: no subscription matched', flush=True)
        return 2
    print('numpy_pub: subscription matched', flush=True)

    def make(i):
        if args.api == 'helper':
            if args.kind == 'image':
                return rnp.image_to_cdr(arr, 'rgba8', 'numpy', (i, 0))
            return rnp.multiarray_to_cdr(arr)
        msg = Msg()
        if args.kind == 'image':
            msg.header.stamp.sec = i
            msg.header.frame_id = 'numpy'
            msg.height, msg.width = arr.shape[0], arr.shape[1]
            msg.encoding, msg.step = 'rgba8', arr.shape[1] * 4
            msg.data = arr.tobytes()          # the fast idiom (cv_bridge does the same)
        else:
            import array
            msg.data = array.array('d', arr.tobytes())
        return msg

    n = 0
    t0 = time.monotonic()
    end = t0 + args.seconds + 3.0 if args.seconds > 0 else None
    while pub.get_subscription_count() >= 1:
        if end is not None and time.monotonic() > end:
            break
        n += 1
        pub.publish(make(n))
        if args.period > 0 and args.seconds <= 0:
            rclpy.spin_once(node, timeout_sec=args.period)
    dt = time.monotonic() - t0
    print(f'numpy_pub: published {n} messages in {dt:.2f} s ({n * arr.nbytes / dt / 1e6:.1f} MB/s)',
          flush=True)
    return 0


def is_view_of(a, raw):
    b = a
    while b is not None and not isinstance(b, (bytes, bytearray, memoryview)):
        if b.flags.owndata:
            return False
        b = b.base
    return b is raw


def run_sub(args, node, Msg, qos, arr, rnp, np, rclpy):
    raw_mode = args.api == 'helper'
    st = {'n': 0, 'bytes': 0, 't_first': None, 't_last': None, 'bad': None, 'last_seq': 0}
    bench = args.seconds > 0

    def cb(m):
        now = time.monotonic()
        if args.api == 'helper':
            if args.kind == 'image':
                info, a = rnp.image_array(m, with_info=True)
                seq = info.sec
            else:
                a = rnp.multiarray_shaped(m, 'f8')
                seq = st['n'] + 1
            if not bench and not (is_view_of(a, m) and not a.flags.owndata):
                st['bad'] = f'not a view of the received bytes: base chain of {type(a.base)}'
        else:
            if args.kind == 'image':
                a = np.asarray(m.data, dtype=np.uint8).reshape(m.height, m.width, 4)
                seq = m.header.stamp.sec
            else:
                a = np.asarray(m.data, dtype=np.float64)
                seq = st['n'] + 1
        if st['t_first'] is None:
            st['t_first'] = now
            st['n0'] = 0
        st['n'] += 1
        st['bytes'] += a.nbytes
        st['t_last'] = now
        if bench:
            _ = int(a.reshape(-1)[0]) + int(a.reshape(-1)[-1])   # touch it
            return
        if a.shape != arr.shape or a.dtype != arr.dtype or not np.array_equal(a, arr):
            st['bad'] = f'message {seq}: array differs ({a.shape} {a.dtype})'
        print(f'numpy_sub: got seq {seq} {a.shape} {a.dtype} view={is_view_of(a, m)} '
              f'owndata={a.flags.owndata} equal={st["bad"] is None}', flush=True)

    node.create_subscription(Msg, args.topic, cb, qos, raw=raw_mode)
    if bench:
        common.wait_until(lambda: st['t_first'] is not None, args.wait_match,
                          spin=lambda t: rclpy.spin_once(node, timeout_sec=t))
        if st['t_first'] is None:
            print('numpy_sub: nothing received', flush=True)
            return 2
        t0, n0, b0 = st['t_first'], st['n'], st['bytes']
        while time.monotonic() < t0 + args.seconds:
            rclpy.spin_once(node, timeout_sec=0.1)
        dt = st['t_last'] - t0
        n, b = st['n'] - n0, st['bytes'] - b0
        res = {'messages': n, 'bytes': b, 'seconds': round(dt, 3),
               'MBps': round(b / dt / 1e6, 1) if dt > 0 else 0.0,
               'msg_per_s': round(n / dt, 1) if dt > 0 else 0.0}
        print(f'numpy_sub: RESULT {json.dumps(res)}', flush=True)
        return 0
    ok = common.wait_until(lambda: st['n'] >= args.count or st['bad'], args.wait_match,
                           spin=lambda t: rclpy.spin_once(node, timeout_sec=t))
    if st['bad']:
        print(f'numpy_sub: FAIL {st["bad"]}', flush=True)
        return 1
    if not ok:
        print(f'numpy_sub: FAIL only {st["n"]} of {args.count} messages', flush=True)
        return 1
    print(f'numpy_sub: OK {st["n"]}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
