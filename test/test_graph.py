"""Graph queries from another process list exactly what was created (nodes, topics with types,
endpoint info with node names, counts, per-node queries), and a SIGKILLed node leaves the graph
within 2 s."""

import json
import os
import signal


def test_graph_seen_from_another_process_and_killed_node_leaves(launcher):
    holder = launcher.start('holder', 'graph_worker.py', 'holder', '--watchdog', 90)
    assert launcher.wait_for_line(holder, 'holder: ready', 60), holder.report()
    launcher.check_rmw(holder)
    observer = launcher.start('observer', 'graph_worker.py', 'observer', '--watchdog', 90)
    assert launcher.wait_for_line(observer, 'observer: kill now', 60), launcher.reports()
    launcher.check_rmw(observer)
    line = next(l for l in observer.output().splitlines() if l.startswith('GRAPH '))
    g = json.loads(line[len('GRAPH '):])

    assert ['graph_holder', '/g'] in g['nodes'] and ['graph_observer', '/'] in g['nodes'], g['nodes']
    assert g['topics']['/g/topic_a'] == ['std_msgs/msg/String']
    assert g['topics']['/g/topic_b'] == ['std_msgs/msg/Int32']
    assert g['pubs_a'] == [{'node': 'graph_holder', 'ns': '/g', 'type': 'std_msgs/msg/String',
                            'depth': 7, 'gid_len': 16}]
    assert g['subs_b'] == [{'node': 'graph_holder', 'ns': '/g', 'type': 'std_msgs/msg/Int32',
                            'depth': 3, 'gid_len': 16}]
    assert (g['count_pub_a'], g['count_sub_a'], g['count_sub_b']) == (1, 0, 1)
    assert g['holder_pubs']['/g/topic_a'] == ['std_msgs/msg/String']
    assert '/rosout' in g['holder_pubs'] and '/g/topic_b' not in g['holder_pubs']
    assert g['holder_subs'] == {'/g/topic_b': ['std_msgs/msg/Int32']}
    assert g['unknown_node'] != 'no error'
    assert g['services']['/g/srv_a'] == ['test_msgs/srv/BasicTypes']
    assert g['services']['/g/srv_b'] == ['test_msgs/srv/BasicTypes']  # a client makes it known too
    assert '/g/graph_holder/get_parameters' in g['services']
    assert g['holder_services']['/g/srv_a'] == ['test_msgs/srv/BasicTypes']
    assert '/g/srv_b' not in g['holder_services']
    assert g['holder_clients'] == {'/g/srv_b': ['test_msgs/srv/BasicTypes']}

    os.killpg(holder.popen.pid, signal.SIGKILL)
    assert launcher.wait(observer, 30) == 0, observer.report()
    gone = next(l for l in observer.output().splitlines() if l.startswith('GONE '))
    seconds, ok = gone.split()[1:]
    assert ok == 'True', observer.report()
    assert float(seconds) < 2.0, f'killed node left the graph after {seconds} s'


def test_domains_are_isolated(launcher):
    """A node in another ROS_DOMAIN_ID is neither in the graph nor reachable by its topics."""
    other = str(launcher.domain + 100)
    holder = launcher.start('holder_other_domain', 'graph_worker.py', 'holder', '--watchdog', 60,
                            extra_env={'ROS_DOMAIN_ID': other})
    assert launcher.wait_for_line(holder, 'holder: ready', 60), holder.report()
    observer = launcher.start('observer', 'graph_worker.py', 'observer', '--watchdog', 60,
                              '--appear-timeout', 3)
    rc = launcher.wait(observer, 40)
    assert rc == 1 and 'holder never appeared' in observer.output(), observer.report()
