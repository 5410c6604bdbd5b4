"""Load (issue 7 item 2): 50 nodes x 20 topics (each node publishes on 10 and subscribes to 10 of
another node), in one process and spread over 4 processes, RELIABLE KEEP_ALL, 1000 messages per
second in all: nothing lost, duplicated or reordered, resident memory flat after warm-up (growth
under 5 %), file descriptors within the soft RLIMIT_NOFILE (rmw_init raises it to the hard limit).

Short version by default (20 s of publishing); RMW_SHM_RS_SOAK=1 runs 10 minutes
(RMW_SHM_RS_LOAD_SECONDS overrides either). Nodes: test/nodes/load_worker.py.
"""

import json
import os
import resource


NODES, TOPICS, RATE = 50, 10, 1000.0
SECONDS = float(os.environ.get('RMW_SHM_RS_LOAD_SECONDS')
                or (600 if os.environ.get('RMW_SHM_RS_SOAK') == '1' else 20))
ROUNDS = int(RATE * SECONDS / (NODES * TOPICS))
# iceoryx2 keeps about 13 descriptors open per endpoint when both ends live in one process
# (segments, connections, config files; wake-ups share one doorbell per context:
# docs/troubleshooting.md): 50 x 20 endpoints need ~13000 (measured 13,048), within 80 % of a hard
# RLIMIT_NOFILE of 20000 (the CI machine's). Where the limit is lower, the one-process case runs
# with as many topics per node as fit in 80 % of it.
FDS_PER_ENDPOINT = 14
ONE_PROCESS_TOPICS = max(1, min(TOPICS, int(resource.getrlimit(resource.RLIMIT_NOFILE)[1] * 0.8
                                            / (NODES * 2 * FDS_PER_ENDPOINT))))


def _exit_codes(launcher, procs):
    """Waits for every process; returns their exit codes."""
    return [launcher.wait(p, SECONDS + 380) for p in procs]


def _clean_exits(codes, procs):
    """Every process exits 0 after the load (shutdown with 50 nodes' entities and the delegate's
    graph watcher, which is joined at context shutdown)."""
    bad = [(p.name, c) for p, c in zip(procs, codes) if c != 0]
    assert not bad, f'processes died at exit: {bad}\n' + '\n'.join(p.report() for p in procs)


def _report(proc):
    lines = [ln for ln in proc.output().splitlines() if ln.startswith('LOAD ')]
    assert lines, proc.report()
    return json.loads(lines[-1][5:])


def _check(name, r, proc, rounds=ROUNDS):
    print(f'\n{name}: {r}')
    assert r['rounds'] == rounds and r['publish_errors'] == 0, proc.report()
    assert r['short_topics'] == 0 and r['extra_topics'] == 0 and r['out_of_order'] == 0, \
        f'{name}: messages lost, duplicated or reordered: {r}\n{proc.report()}'
    growth = (r['rss_end_kib'] - r['rss_warm_kib']) / r['rss_warm_kib']
    assert growth < 0.05, f'{name}: resident memory grew {growth:.1%} after warm-up: {r}'
    assert r['fds'] < r['nofile_soft'], f'{name}: {r["fds"]} fds, soft limit {r["nofile_soft"]}'


def _start(launcher, name, a, b, offset, rate, topics=TOPICS, rounds=ROUNDS):
    return launcher.start(name, 'load_worker.py', '--nodes', f'{a}:{b}', '--total', NODES,
                          '--peer-offset', offset, '--topics', topics, '--rounds', rounds,
                          '--rate', rate, '--watchdog', SECONDS + 400)


def test_fifty_nodes_in_one_process(launcher):
    topics = ONE_PROCESS_TOPICS
    rounds = int(RATE * SECONDS / (NODES * topics))
    if topics < TOPICS:
        print(f'\none process: {2 * topics} topics per node (hard RLIMIT_NOFILE '
              f'{resource.getrlimit(resource.RLIMIT_NOFILE)[1]})')
    p = _start(launcher, 'load', 0, NODES, 1, RATE, topics, rounds)
    codes = _exit_codes(launcher, [p])
    r = _report(p)
    assert r['received'] == r['published'] == rounds * NODES * topics, r
    _check('one process', r, p, rounds)
    assert r['fds'] <= 0.8 * r['nofile_soft'], f'one process: {r["fds"]} fds, over 80 % of the limit'
    _clean_exits(codes, [p])


def test_fifty_nodes_over_four_processes(launcher):
    cuts = [round(k * NODES / 4) for k in range(5)]
    # Node i subscribes to node i + 13: always a node of another process.
    procs = [_start(launcher, f'load{k}', cuts[k], cuts[k + 1], 13,
                    RATE * (cuts[k + 1] - cuts[k]) / NODES) for k in range(4)]
    codes = _exit_codes(launcher, procs)
    for k, p in enumerate(procs):
        _check(f'process {k}', _report(p), p)
    _clean_exits(codes, procs)
