#!/usr/bin/env python3
"""rclpy service, action and parameter roles for test/test_services.py, one role per process.

  server        test_msgs/srv/BasicTypes server: answers each request with its own fields
  client        waits for the server, then makes --count calls (the first right after
                wait_for_service returns); checks every response matches its request
  watch         waits for the server, prints 'available', then 'unavailable after X s' once
                service_is_ready() turns false
  action-server test_msgs/action/Fibonacci server: publishes feedback for every step
  action-client sends one Fibonacci goal, checks feedback and result
  param-target  a node with parameters, spinning
  param-client  sets and reads the target's parameters through its parameter services
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

FIELDS = ('bool_value', 'byte_value', 'char_value', 'float32_value', 'float64_value',
          'int8_value', 'uint8_value', 'int16_value', 'uint16_value', 'int32_value',
          'uint32_value', 'int64_value', 'uint64_value', 'string_value')


def random_request(rng, tag):
    from test_msgs.srv import BasicTypes
    r = BasicTypes.Request()
    r.bool_value = rng.random() < 0.5
    r.byte_value = bytes([rng.randrange(256)])
    r.char_value = rng.randrange(256)
    r.float32_value = float(rng.randrange(-1000, 1000)) / 4
    r.float64_value = rng.uniform(-1e6, 1e6)
    r.int8_value = rng.randrange(-128, 128)
    r.uint8_value = rng.randrange(256)
    r.int16_value = rng.randrange(-2**15, 2**15)
    r.uint16_value = rng.randrange(2**16)
    r.int32_value = rng.randrange(-2**31, 2**31)
    r.uint32_value = rng.randrange(2**32)
    r.int64_value = rng.randrange(-2**63, 2**63)
    r.uint64_value = rng.randrange(2**64)
    r.string_value = f'{tag} ' + 'x' * rng.randrange(0, 300)
    return r


def same(req, resp):
    return all(getattr(req, f) == getattr(resp, f) for f in FIELDS)


def spin_until(node, future, timeout):
    import rclpy
    rclpy.spin_until_future_complete(node, future, timeout_sec=timeout)
    return future.done()


def run_server(args, node):
    import rclpy
    from test_msgs.srv import BasicTypes
    served = [0]

    def handle(request, response):
        for f in FIELDS:
            setattr(response, f, getattr(request, f))
        served[0] += 1
        return response

    node.create_service(BasicTypes, args.service, handle)
    print('service_worker server: ready', flush=True)
    deadline = time.monotonic() + args.timeout
    while rclpy.ok() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    print(f'service_worker server: served {served[0]}', flush=True)
    return 0


def run_client(args, node):
    from test_msgs.srv import BasicTypes
    cli = node.create_client(BasicTypes, args.service)
    t0 = time.monotonic()
    if not cli.wait_for_service(timeout_sec=args.timeout):
        print('service_worker client: no server', flush=True)
        return 2
    print(f'service_worker client: server available after {time.monotonic() - t0:.2f} s', flush=True)
    rng = random.Random(args.seed)
    bad = 0
    for i in range(args.count):
        req = random_request(rng, f'{args.tag}#{i}')
        fut = cli.call_async(req)
        if not spin_until(node, fut, args.call_timeout):
            print(f'service_worker client: call {i + 1} got no response within '
                  f'{args.call_timeout} s', flush=True)
            return 3
        if not same(req, fut.result()):
            bad += 1
            print(f'service_worker client: call {i + 1} response differs: sent '
                  f'{req.string_value[:20]!r}, got {fut.result().string_value[:20]!r}', flush=True)
        if i == 0:
            print('service_worker client: first call answered', flush=True)
    print(f'service_worker client: {args.count} calls, {bad} mismatched', flush=True)
    return 0 if bad == 0 else 4


def run_watch(args, node):
    import rclpy
    from test_msgs.srv import BasicTypes
    cli = node.create_client(BasicTypes, args.service)
    if not cli.wait_for_service(timeout_sec=args.timeout):
        print('service_worker watch: no server', flush=True)
        return 2
    print('service_worker watch: available', flush=True)
    t_gone = None
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not cli.service_is_ready():
            if t_gone is None:
                print('service_worker watch: unavailable', flush=True)
                return 0
        rclpy.spin_once(node, timeout_sec=0.05)
    print('service_worker watch: still available at the timeout', flush=True)
    return 5


def run_action_server(args, node):
    import rclpy
    from rclpy.action import ActionServer
    from test_msgs.action import Fibonacci

    def execute(goal_handle):
        order = goal_handle.request.order
        seq = [0, 1]
        feedback = Fibonacci.Feedback()
        for i in range(1, order):
            seq.append(seq[i] + seq[i - 1])
            feedback.sequence = seq
            goal_handle.publish_feedback(feedback)
            time.sleep(0.05)
        goal_handle.succeed()
        result = Fibonacci.Result()
        result.sequence = seq
        print(f'service_worker action-server: goal {order} done', flush=True)
        return result

    ActionServer(node, Fibonacci, args.service, execute)
    print('service_worker action-server: ready', flush=True)
    deadline = time.monotonic() + args.timeout
    while rclpy.ok() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    return 0


def run_action_client(args, node):
    from rclpy.action import ActionClient
    from test_msgs.action import Fibonacci
    client = ActionClient(node, Fibonacci, args.service)
    if not client.wait_for_server(timeout_sec=args.timeout):
        print('service_worker action-client: no action server', flush=True)
        return 2
    print('service_worker action-client: server available', flush=True)
    feedback = []
    goal = Fibonacci.Goal()
    goal.order = args.count
    send = client.send_goal_async(goal, feedback_callback=lambda f: feedback.append(
        list(f.feedback.sequence)))
    if not spin_until(node, send, args.call_timeout):
        print('service_worker action-client: goal not acknowledged', flush=True)
        return 3
    handle = send.result()
    if not handle.accepted:
        print('service_worker action-client: goal rejected', flush=True)
        return 3
    print('service_worker action-client: goal accepted', flush=True)
    res = handle.get_result_async()
    if not spin_until(node, res, args.call_timeout):
        print('service_worker action-client: no result', flush=True)
        return 3
    seq = list(res.result().result.sequence)
    want = [0, 1]
    for i in range(1, args.count):
        want.append(want[i] + want[i - 1])
    print(f'service_worker action-client: result {seq}, {len(feedback)} feedback messages',
          flush=True)
    ok = seq == want and len(feedback) > 0 and all(f == want[:len(f)] for f in feedback)
    print(f'service_worker action-client: {"OK" if ok else "WRONG"}', flush=True)
    return 0 if ok else 4


def run_param_target(args, node):
    import rclpy
    node.declare_parameter('speed', 1.5)
    node.declare_parameter('label', 'initial')
    node.declare_parameter('count', 7)
    print('service_worker param-target: ready', flush=True)
    deadline = time.monotonic() + args.timeout
    while rclpy.ok() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    print(f'service_worker param-target: label={node.get_parameter("label").value}', flush=True)
    return 0


def run_param_client(args, node):
    from rclpy.parameter import Parameter
    from rclpy.parameter_client import AsyncParameterClient
    client = AsyncParameterClient(node, args.target)
    if not client.wait_for_services(timeout_sec=args.timeout):
        print('service_worker param-client: parameter services not available', flush=True)
        return 2

    def call(future, what):
        if not spin_until(node, future, args.call_timeout):
            raise RuntimeError(f'{what}: no response')
        return future.result()

    listed = call(client.list_parameters(), 'list').result.names
    got = call(client.get_parameters(['speed', 'label', 'count']), 'get').values
    before = [got[0].double_value, got[1].string_value, got[2].integer_value]
    print(f'service_worker param-client: listed {sorted(listed)}, values {before}', flush=True)
    results = call(client.set_parameters([Parameter('label', value='changed'),
                                          Parameter('speed', value=2.5)]), 'set').results
    after = call(client.get_parameters(['speed', 'label']), 'get').values
    now = [after[0].double_value, after[1].string_value]
    print(f'service_worker param-client: set {[r.successful for r in results]}, now {now}',
          flush=True)
    ok = ({'speed', 'label', 'count'} <= set(listed) and before == [1.5, 'initial', 7]
          and all(r.successful for r in results) and now == [2.5, 'changed'])
    print(f'service_worker param-client: {"OK" if ok else "WRONG"}', flush=True)
    return 0 if ok else 4


ROLES = {
    'server': run_server, 'client': run_client, 'watch': run_watch,
    'action-server': run_action_server, 'action-client': run_action_client,
    'param-target': run_param_target, 'param-client': run_param_client,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('role', choices=sorted(ROLES))
    ap.add_argument('--service', default='basic')
    ap.add_argument('--node', default=None, help='node name (default: derived from the role)')
    ap.add_argument('--target', default='param_target', help='param-client: the target node')
    ap.add_argument('--count', type=int, default=100)
    ap.add_argument('--tag', default='c')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=60.0)
    ap.add_argument('--call-timeout', type=float, default=10.0)
    ap.add_argument('--watchdog', type=float, default=0.0)
    args = ap.parse_args()
    common.install_watchdog(args.watchdog, f'service_worker {args.role}')

    import rclpy
    from rclpy.executors import ExternalShutdownException
    rclpy.init()
    common.announce_rmw(f'service_worker {args.role}')
    node = rclpy.create_node(args.node or args.role.replace('-', '_'))
    try:
        return ROLES[args.role](args, node)
    except (KeyboardInterrupt, ExternalShutdownException):
        print(f'service_worker {args.role}: stopped', flush=True)
        return 0
    finally:
        common.shutdown(node)


if __name__ == '__main__':
    sys.exit(main())
