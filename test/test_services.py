"""Acceptance: services, actions and parameters between rclpy processes on rmw_shm_rs.

- 100 test_msgs/srv/BasicTypes calls from a client process to a server process, every response equal to
  its request; the first call is made right after wait_for_service returns (server first, and client
  first with the server appearing later).
- Two client processes of one service, calling concurrently: each gets only its own responses.
- A test_msgs/action/Fibonacci goal between an rclpy ActionServer and ActionClient: feedback and result.
- Parameters listed, read and set on another node through its parameter services.
- A server killed with SIGKILL: service_is_ready() turns false within 2 s.
"""

import os
import signal
import time

WORKER = 'service_worker.py'


def start_server(launcher, service='basic', timeout=90, name='server'):
    srv = launcher.start(name, WORKER, 'server', '--service', service, '--timeout', timeout,
                         '--watchdog', timeout + 30)
    assert launcher.wait_for_line(srv, 'service_worker server: ready', 60), \
        f'server did not start:\n{launcher.reports()}'
    launcher.check_rmw(srv)
    return srv


def run_client(launcher, name='client', count=100, tag='c', seed=1, timeout=90):
    return launcher.start(name, WORKER, 'client', '--count', count, '--tag', tag, '--seed', seed,
                          '--timeout', 60, '--call-timeout', 10, '--watchdog', timeout)


def check_client(launcher, cli, count=100, timeout=90):
    rc = launcher.wait(cli, timeout)
    launcher.check_rmw(cli)
    out = cli.output()
    assert 'service_worker client: first call answered' in out, \
        f'the first call after wait_for_service was not answered:\n{launcher.reports()}'
    assert f'service_worker client: {count} calls, 0 mismatched' in out, launcher.reports()
    assert rc == 0, launcher.reports()


def test_100_calls_server_first(launcher):
    start_server(launcher)
    check_client(launcher, run_client(launcher))


def test_100_calls_client_first(launcher):
    """The client is already waiting when the server appears: its first call races the server's
    start-up, which must not lose it."""
    cli = run_client(launcher)
    assert launcher.wait_for_line(cli, 'service_worker client: RMW', 60), launcher.reports()
    time.sleep(0.5)
    start_server(launcher)
    check_client(launcher, cli)


def test_two_clients_get_only_their_own_responses(launcher):
    start_server(launcher)
    c1 = run_client(launcher, 'client1', tag='one', seed=11)
    c2 = run_client(launcher, 'client2', tag='two', seed=22)
    check_client(launcher, c1)
    check_client(launcher, c2)


def test_action_fibonacci_goal_with_feedback_and_result(launcher):
    srv = launcher.start('action_server', WORKER, 'action-server', '--service', 'fibonacci',
                         '--timeout', 90, '--watchdog', 120)
    assert launcher.wait_for_line(srv, 'service_worker action-server: ready', 60), launcher.reports()
    cli = launcher.start('action_client', WORKER, 'action-client', '--service', 'fibonacci',
                         '--count', 10, '--timeout', 60, '--call-timeout', 20, '--watchdog', 100)
    rc = launcher.wait(cli, 100)
    launcher.check_rmw(srv)
    launcher.check_rmw(cli)
    assert 'service_worker action-client: OK' in cli.output(), launcher.reports()
    assert rc == 0, launcher.reports()


def test_parameters_through_parameter_services(launcher):
    target = launcher.start('param_target', WORKER, 'param-target', '--node', 'param_target',
                            '--timeout', 90, '--watchdog', 120)
    assert launcher.wait_for_line(target, 'service_worker param-target: ready', 60), \
        launcher.reports()
    cli = launcher.start('param_client', WORKER, 'param-client', '--target', 'param_target',
                         '--timeout', 60, '--watchdog', 100)
    rc = launcher.wait(cli, 100)
    launcher.check_rmw(target)
    launcher.check_rmw(cli)
    assert 'service_worker param-client: OK' in cli.output(), launcher.reports()
    assert rc == 0, launcher.reports()


def test_killed_server_becomes_unavailable_within_2_s(launcher):
    srv = start_server(launcher)
    watch = launcher.start('watch', WORKER, 'watch', '--timeout', 60, '--watchdog', 90)
    assert launcher.wait_for_line(watch, 'service_worker watch: available', 60), launcher.reports()
    os.killpg(srv.popen.pid, signal.SIGKILL)
    srv.popen.wait(10)
    t0 = time.monotonic()
    gone = launcher.wait_for_line(watch, 'service_worker watch: unavailable', 10)
    took = time.monotonic() - t0
    assert gone, f'the killed server still counts as available:\n{launcher.reports()}'
    assert took < 2.0, f'availability turned false only after {took:.2f} s'
    assert launcher.wait(watch, 30) == 0, launcher.reports()
