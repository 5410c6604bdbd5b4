"""Acceptance: an rclpy talker and an rclpy listener in two processes exchange 200 std_msgs/String
on rmw_shm_rs with default QoS, all delivered in order with identical content."""

COUNT = 200


def heard_lines(proc):
    prefix = "I heard: '"
    return [line[len(prefix):-1] for line in proc.output().splitlines()
            if line.startswith(prefix) and line.endswith("'")]


def test_talker_listener_200_messages(launcher):
    listener = launcher.start('listener', 'listener.py', '--count', COUNT, '--watchdog', 150)
    assert launcher.wait_for_line(listener, 'listener: ready', 60), \
        f'listener did not start:\n{listener.report()}'
    launcher.check_rmw(listener)
    # Default QoS is KEEP_LAST 10: a modest rate keeps a loaded machine from overrunning the depth.
    talker = launcher.start('talker', 'talker.py', '--count', COUNT, '--period', 0.02,
                            '--wait-match', 60, '--linger', 20, '--watchdog', 150)
    rc_listener = launcher.wait(listener, 120)
    rc_talker = launcher.wait(talker, 40)
    launcher.check_rmw(talker)
    assert 'talker: subscription matched' in talker.output(), \
        f'publisher never saw the subscription (get_subscription_count):\n{talker.report()}'
    heard = heard_lines(listener)
    expected = [f'Hello World: {i}' for i in range(1, COUNT + 1)]
    assert heard == expected, (
        f'listener heard {len(heard)} of {COUNT}; first difference at '
        f'{next((i for i, (a, b) in enumerate(zip(heard, expected)) if a != b), min(len(heard), COUNT))}'
        f'\n{launcher.reports()}')
    assert rc_listener == 0, listener.report()
    assert rc_talker == 0, talker.report()
