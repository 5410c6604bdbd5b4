"""Graph test node.

  holder    creates node 'graph_holder' in namespace '/g' with a publisher on /g/topic_a
            (std_msgs/String, depth 7) and a subscription on /g/topic_b (std_msgs/Int32), prints
            'holder: ready' and spins until killed.
  observer  waits until 'graph_holder' is in the graph, prints one line 'GRAPH <json>' with what the
            graph queries answer, then (after 'observer: kill now', when the test has SIGKILLed the
            holder) prints 'GONE <seconds>' once the node has left the graph.
"""

import argparse
import json
import sys
import time

from common import announce_rmw, install_watchdog, shutdown, wait_until


def holder(args):
    import rclpy
    from std_msgs.msg import Int32, String
    rclpy.init()
    announce_rmw('holder')
    node = rclpy.create_node('graph_holder', namespace='/g')
    node.create_publisher(String, '/g/topic_a', 7)
    node.create_subscription(Int32, '/g/topic_b', lambda m: None, 3)
    from test_msgs.srv import BasicTypes
    node.create_service(BasicTypes, '/g/srv_a', lambda req, resp: resp)
    node.create_client(BasicTypes, '/g/srv_b')
    print('holder: ready', flush=True)
    rclpy.spin(node)


def names(node):
    return sorted(node.get_node_names_and_namespaces())


def observer(args):
    import rclpy
    rclpy.init()
    announce_rmw('observer')
    node = rclpy.create_node('graph_observer')
    if not wait_until(lambda: ('graph_holder', '/g') in names(node), args.appear_timeout):
        print(f'observer: holder never appeared; nodes {names(node)}', flush=True)
        sys.exit(1)
    info = lambda infos: [{'node': i.node_name, 'ns': i.node_namespace, 'type': i.topic_type,
                           'depth': i.qos_profile.depth, 'gid_len': len(i.endpoint_gid)} for i in infos]
    graph = {
        'nodes': names(node),
        'topics': {n: t for n, t in node.get_topic_names_and_types()},
        'pubs_a': info(node.get_publishers_info_by_topic('/g/topic_a')),
        'subs_b': info(node.get_subscriptions_info_by_topic('/g/topic_b')),
        'count_pub_a': node.count_publishers('/g/topic_a'),
        'count_sub_a': node.count_subscribers('/g/topic_a'),
        'count_sub_b': node.count_subscribers('/g/topic_b'),
        'holder_pubs': {n: t for n, t in node.get_publisher_names_and_types_by_node('graph_holder', '/g')},
        'holder_subs': {n: t for n, t in node.get_subscriber_names_and_types_by_node('graph_holder', '/g')},
        'services': {n: t for n, t in node.get_service_names_and_types()},
        'holder_services': {n: t for n, t in node.get_service_names_and_types_by_node('graph_holder', '/g')},
        'holder_clients': {n: t for n, t in node.get_client_names_and_types_by_node('graph_holder', '/g')},
    }
    try:
        node.get_publisher_names_and_types_by_node('nobody', '/')
        graph['unknown_node'] = 'no error'
    except Exception as e:  # noqa: BLE001 - the test checks which error
        graph['unknown_node'] = type(e).__name__
    print('GRAPH ' + json.dumps(graph), flush=True)
    print('observer: kill now', flush=True)
    sys.stdin.readline() if args.wait_stdin else None
    t0 = time.monotonic()
    gone = wait_until(lambda: ('graph_holder', '/g') not in names(node), 10, step=0.01)
    print(f'GONE {time.monotonic() - t0:.3f} {gone}', flush=True)
    shutdown(node)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['holder', 'observer'])
    ap.add_argument('--watchdog', type=float, default=60)
    ap.add_argument('--wait-stdin', action='store_true')
    ap.add_argument('--appear-timeout', type=float, default=10)
    a = ap.parse_args()
    install_watchdog(a.watchdog, a.mode)
    holder(a) if a.mode == 'holder' else observer(a)
