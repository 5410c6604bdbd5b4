#!/usr/bin/env python3
"""Service server and client roles for the crash loops of test/test_crash.py
(test_msgs/srv/BasicTypes).

  server  answers every request with its int64_value and its string_value prefixed with '<tag>|'.
          Prints 'server: ready'; 'ERROR <error>' if spinning raises; at exit
          'STATS served=.. errors=..'.
  client  keeps --inflight requests outstanding while the service is available. Prints
          'AVAILABLE <t>' / 'UNAVAILABLE <t>' when service_is_ready() changes, 'ANSWER <tag> <t>'
          for the first response of every server tag, 'WRONG ...' for a response that does not
          match its request, 'DROPPED <seq> <t> timeout' for a request unanswered after
          --call-timeout s and 'DROPPED <seq> <t> unavailable' for one outstanding when the
          service became unavailable (both given up), 'STALL <call> <s>' for an rclpy call that
          took longer than --stall s, and 'TICK <answered> <t>' every 0.5 s; at exit
          'STATS answered=.. wrong=.. dropped=.. slowest=<call>:<s>'.
Both can watch the graph (--watch) and wait for SIGUSR1 before creating their endpoint (--arm).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from crash_common import run_node, Slowest, add_common_args, emit, now  # noqa: E402


def run_server(args, node, watch, spin):
    from test_msgs.srv import BasicTypes
    served = [0]

    def handle(request, response):
        response.int64_value = request.int64_value
        response.string_value = f'{args.tag}|{request.string_value}'
        served[0] += 1
        return response

    node.create_service(BasicTypes, args.service, handle)
    emit('server: ready')
    errors = 0
    try:
        while True:
            try:
                spin(0.01)
            except Exception as e:  # noqa: BLE001 - reported; the test expects none
                errors += 1
                emit('ERROR', repr(e).replace('\n', ' '))
            watch.poll()
    finally:
        emit('STATS', f'served={served[0]}', f'errors={errors}')


def run_client(args, node, watch, spin):
    from test_msgs.srv import BasicTypes
    slow = Slowest(args.stall)
    cli = slow.time('create_client', node.create_client, BasicTypes, args.service)
    outstanding = {}  # seq -> (future, request, sent at)
    seen_tags = set()
    answered = wrong = dropped = seq = 0
    ready = None
    next_tick = now()
    try:
        while True:
            is_ready = slow.time('service_is_ready', cli.service_is_ready)
            if is_ready != ready:
                ready = is_ready
                emit('AVAILABLE' if ready else 'UNAVAILABLE', f'{now():.4f}')
                if not ready:
                    # Its server is gone: nobody will answer what it had (a new server gets
                    # only new requests).
                    for s, (fut, _, _) in list(outstanding.items()):
                        del outstanding[s]
                        cli.remove_pending_request(fut)
                        dropped += 1
                        emit('DROPPED', s, f'{now():.4f}', 'unavailable')
            while ready and len(outstanding) < args.inflight:
                seq += 1
                req = BasicTypes.Request(int64_value=seq, string_value=f'{args.node}#{seq}')
                fut = slow.time('call_async', cli.call_async, req)
                outstanding[seq] = (fut, req, now())
            slow.time('spin_once', spin, 0.01)
            for s, (fut, req, sent) in list(outstanding.items()):
                if fut.done():
                    del outstanding[s]
                    resp = fut.result()
                    tag, _, echoed = resp.string_value.partition('|')
                    answered += 1
                    if resp.int64_value != req.int64_value or echoed != req.string_value:
                        wrong += 1
                        emit('WRONG', s, repr(resp.string_value[:60]))
                    if tag not in seen_tags:
                        seen_tags.add(tag)
                        emit('ANSWER', tag, f'{now():.4f}')
                elif now() - sent > args.call_timeout:
                    del outstanding[s]
                    cli.remove_pending_request(fut)
                    dropped += 1
                    emit('DROPPED', s, f'{now():.4f}', 'timeout')
            if now() >= next_tick:
                emit('TICK', answered, f'{now():.4f}')
                next_tick = now() + 0.5
            watch.poll()
    finally:
        emit('STATS', f'answered={answered}', f'wrong={wrong}', f'dropped={dropped}',
             f'slowest={slow.what}:{slow.max:.3f}')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('role', choices=['server', 'client'])
    add_common_args(ap)
    ap.add_argument('--service', default='/crash_srv')
    ap.add_argument('--inflight', type=int, default=1, help='client: requests kept outstanding')
    ap.add_argument('--call-timeout', type=float, default=3.0,
                    help='client: give a request up after this many seconds')
    ap.add_argument('--stall', type=float, default=1.0,
                    help='client: report rclpy calls that take longer than this')
    args = ap.parse_args()
    args.tag = args.tag or args.node
    common.install_watchdog(args.watchdog, f'crash_service {args.role}')

    return run_node(args, f'crash_service {args.role}',
                    run_server if args.role == 'server' else run_client)


if __name__ == '__main__':
    sys.exit(main())
