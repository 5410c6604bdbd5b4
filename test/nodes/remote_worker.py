#!/usr/bin/env python3
"""Test node roles for test/test_remote.py (two hosts in network namespaces), one role per process.

  image_pub  waits for a subscription, then publishes --count sensor_msgs/Image of each size in
             --sizes (bytes, comma separated) at --rate Hz (RELIABLE, VOLATILE, KEEP_LAST --depth);
             the data of image k is random bytes seeded by (--seed, k); waits for --done-file
  image_sub  receives sensor_msgs/Image until it has --count of them (or --timeout), checks each
             one's index (frame_id 'img<k>'), size and bytes against the same seed; prints
             'image_sub: received N ... bad M ...'
  tl_pub     RELIABLE TRANSIENT_LOCAL KEEP_LAST --depth publisher on --topic: publishes --count
             std_msgs/String 'tl<k>', prints 'tl_pub: published', then spins (publishes no more)
  sub        std_msgs/String subscription (--reliability, --durability, --depth) on --topic;
             prints 'sub: ready', every message as 'GOT <data>', exits after --count messages or
             --timeout with 'sub: done <n>'
  graph      node --node with a publisher on --pub-topic (std_msgs/String, --reliability,
             --durability, --depth) and a subscription on --sub-topic (std_msgs/Int32); waits until
             node --peer-node is in the graph and --peer-topic has a publisher, prints
             'GRAPH <json>' (what the graph queries answer), then spins until --done-file exists
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

WIDTH = 1024
STEP = WIDTH * 4  # rgba8


def qos_profile(reliability='reliable', durability='volatile', depth=10):
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=getattr(ReliabilityPolicy, reliability.upper()),
                      durability=getattr(DurabilityPolicy, durability.upper()))


def image_bytes(seed, k, size):
    import random
    return random.Random(f'{seed}/{k}').randbytes(size)


def spin_for(node, seconds, until=None):
    import rclpy
    end = time.monotonic() + seconds
    while time.monotonic() < end and rclpy.ok():
        if until is not None and until():
            return True
        rclpy.spin_once(node, timeout_sec=min(0.05, max(0.0, end - time.monotonic())))
    return until() if until is not None else True


def run_image_pub(a, node):
    import array
    from sensor_msgs.msg import Image
    sizes = [int(s) for s in a.sizes.split(',')]
    pub = node.create_publisher(Image, a.topic, qos_profile(depth=a.depth))
    t0 = time.monotonic()
    if not spin_for(node, a.match_timeout, until=lambda: pub.get_subscription_count() >= 1):
        print(f'image_pub: no subscription matched within {a.match_timeout} s', flush=True)
        return 2
    print(f'image_pub: subscription matched after {time.monotonic() - t0:.2f} s', flush=True)
    k = 0
    period = 1.0 / a.rate
    t_start = time.monotonic()
    next_t = t_start
    for size in sizes:
        assert size % STEP == 0, f'size must be a multiple of {STEP}'
        for _ in range(a.count):
            img = Image()
            img.header.frame_id = f'img{k}'
            img.header.stamp.sec = k
            img.width = WIDTH
            img.height = size // STEP
            img.encoding = 'rgba8'
            img.step = STEP
            img.data = array.array('B', image_bytes(a.seed, k, size))
            delay = next_t - time.monotonic()
            if delay > 0:
                spin_for(node, delay)
            pub.publish(img)
            k += 1
            next_t += period
    took = time.monotonic() - t_start
    print(f'image_pub: published {k} images in {took:.2f} s', flush=True)
    if a.done_file:
        spin_for(node, a.timeout, until=lambda: os.path.exists(a.done_file))
    print('image_pub: done', flush=True)
    return 0


def run_image_sub(a, node):
    import hashlib
    from sensor_msgs.msg import Image
    got = []

    def on_image(m):
        got.append((m.header.frame_id, m.height, m.width, m.step, m.encoding,
                    hashlib.sha256(m.data.tobytes() if hasattr(m.data, 'tobytes')
                                   else bytes(m.data)).hexdigest(), len(m.data),
                    time.monotonic()))

    node.create_subscription(Image, a.topic, on_image, qos_profile(depth=a.depth))
    print('image_sub: ready', flush=True)
    t0 = time.monotonic()
    spin_for(node, a.timeout, until=lambda: len(got) >= a.count)
    spin_for(node, 0.3)  # duplicates or extra messages
    sizes = [int(s) for s in a.sizes.split(',')]
    per = max(1, a.count // len(sizes))
    bad = 0
    for idx, (fid, height, width, step, enc, digest, n, t) in enumerate(got):
        want_k = idx
        size = sizes[min(want_k // per, len(sizes) - 1)]
        want = hashlib.sha256(image_bytes(a.seed, want_k, size)).hexdigest()
        problems = []
        if fid != f'img{want_k}':
            problems.append(f'frame_id {fid!r}, expected img{want_k} (order or loss)')
        if n != size or height != size // STEP or width != WIDTH or step != STEP or enc != 'rgba8':
            problems.append(f'{n} bytes {width}x{height} step {step} {enc!r}, expected {size} bytes')
        elif digest != want:
            problems.append('data differs')
        print(f'GOT {fid} {n} bytes at {t - t0:.3f} s{": " + "; ".join(problems) if problems else ""}',
              flush=True)
        bad += bool(problems)
    print(f'image_sub: received {len(got)} of {a.count}, bad {bad}', flush=True)
    return 0


def run_tl_pub(a, node):
    from std_msgs.msg import String
    pub = node.create_publisher(String, a.topic, qos_profile('reliable', 'transient_local', a.depth))
    for k in range(a.count):
        pub.publish(String(data=f'tl{k}'))
    print('tl_pub: published', flush=True)
    spin_for(node, a.timeout)
    return 0


def run_sub(a, node):
    from std_msgs.msg import String
    got = []

    def on_msg(m):
        got.append(m.data)
        print(f'GOT {m.data}', flush=True)

    node.create_subscription(String, a.topic, on_msg, qos_profile(a.reliability, a.durability, a.depth))
    print('sub: ready', flush=True)
    spin_for(node, a.timeout, until=lambda: a.count and len(got) >= a.count)
    spin_for(node, 0.3)
    print(f'sub: done {len(got)}', flush=True)
    return 0


def endpoint_info(infos):
    return [{'node': i.node_name, 'ns': i.node_namespace, 'type': i.topic_type,
             'reliability': i.qos_profile.reliability.name,
             'durability': i.qos_profile.durability.name,
             'gid_len': len(i.endpoint_gid)} for i in infos]


def run_graph(a, node):
    from std_msgs.msg import Int32, String
    node.create_publisher(String, a.pub_topic, qos_profile(a.reliability, a.durability, a.depth))
    node.create_subscription(Int32, a.sub_topic, lambda m: None, 5)
    print('graph: ready', flush=True)
    peer = (a.peer_node, '/')
    t0 = time.monotonic()

    def named(infos):
        # An endpoint is named once the peer's ros_discovery_info sample that lists its GID has
        # arrived; DDS discovery may report the endpoint itself first (rmw_fastrtps_cpp shows
        # _NODE_NAME_UNKNOWN_ until then, on either side), so wait for both.
        return len(infos) > 0 and all(i.node_name == a.peer_node for i in infos)

    def seen():
        # Discovery reports a participant's endpoints one by one: wait for all the peer's.
        return (peer in node.get_node_names_and_namespaces()
                and named(node.get_publishers_info_by_topic(a.peer_topic))
                and named(node.get_subscriptions_info_by_topic(a.peer_sub_topic)))

    ok = spin_for(node, a.timeout, until=seen)
    took = time.monotonic() - t0
    graph = {
        'seen': ok, 'after': round(took, 3),
        'nodes': sorted(node.get_node_names_and_namespaces()),
        'topics': {n: t for n, t in node.get_topic_names_and_types()},
        'peer_pubs': endpoint_info(node.get_publishers_info_by_topic(a.peer_topic)),
        'peer_subs': endpoint_info(node.get_subscriptions_info_by_topic(a.peer_sub_topic)),
    }
    try:
        graph['peer_node_pubs'] = {n: t for n, t in node.get_publisher_names_and_types_by_node(
            a.peer_node, '/')}
    except Exception as e:  # noqa: BLE001 - reported to the test
        graph['peer_node_pubs'] = repr(e)
    print('GRAPH ' + json.dumps(graph), flush=True)
    if a.done_file:
        spin_for(node, a.timeout, until=lambda: os.path.exists(a.done_file))
    return 0 if ok else 1


ROLES = {'image_pub': run_image_pub, 'image_sub': run_image_sub, 'tl_pub': run_tl_pub,
         'sub': run_sub, 'graph': run_graph}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('role', choices=sorted(ROLES))
    ap.add_argument('--node', default=None)
    ap.add_argument('--topic', default='/remote_topic')
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--depth', type=int, default=10)
    ap.add_argument('--reliability', default='reliable')
    ap.add_argument('--durability', default='volatile')
    ap.add_argument('--sizes', default='1048576')
    ap.add_argument('--rate', type=float, default=10.0)
    ap.add_argument('--seed', default='remote')
    ap.add_argument('--pub-topic', default='/remote_graph/pub')
    ap.add_argument('--sub-topic', default='/remote_graph/sub')
    ap.add_argument('--peer-node', default='')
    ap.add_argument('--peer-topic', default='')
    ap.add_argument('--peer-sub-topic', default='')
    ap.add_argument('--done-file', default=None)
    ap.add_argument('--match-timeout', type=float, default=20.0)
    ap.add_argument('--timeout', type=float, default=30.0)
    ap.add_argument('--watchdog', type=float, default=90.0)
    a = ap.parse_args()
    name = f'remote_worker {a.role}'
    common.install_watchdog(a.watchdog, name)

    import rclpy
    from rclpy.executors import ExternalShutdownException
    rclpy.init()
    common.announce_rmw(a.role)
    node = rclpy.create_node(a.node or f'remote_{a.role}')
    try:
        return ROLES[a.role](a, node)
    except (KeyboardInterrupt, ExternalShutdownException):
        print(f'{name}: stopped', flush=True)
        return 0
    finally:
        common.shutdown(node)


if __name__ == '__main__':
    sys.exit(main())
