"""Two "hosts" on one machine: a pair of network namespaces joined by a veth link.

    rmwA_<tag>  veth rmwvA  10.201.<x>.1/24  mtu 1500  lo up  224.0.0.0/4 dev rmwvA
    rmwB_<tag>  veth rmwvB  10.201.<x>.2/24  mtu 1500  lo up  224.0.0.0/4 dev rmwvB

Only the network is separated: the file system, /dev/shm, /tmp and the process table are shared,
so files (instances, result files) can be passed between the hosts, and a host's processes are
ordinary children of the caller. A process goes onto a host with `ip netns exec <name> cmd...`
(`NetnsPair.exec_prefix('a')`); ip exec()s the command, so the pid (and process group) stays the
command's own.

No pytest here (the latency benchmark uses this module too):

    from netns import NetnsPair, unavailable_reason
    if (why := unavailable_reason()) is None:
        with NetnsPair() as pair:                       # created; deleted on exit, even on error
            subprocess.run([*pair.exec_prefix('a'), 'python3', 'node.py'], env=...)

The tag defaults to the caller's pid; `remove_stale()` (called by `create()`) deletes rmwA_*/rmwB_*
namespaces whose tag is the pid of a process that no longer exists (a killed run).
"""

import os
import re
import shutil
import subprocess

PREFIXES = ('rmwA_', 'rmwB_')
_STALE_RE = re.compile(r'^rmw[AB]_(\d+)(?:_\d+)?$')


def _ip(*args, check=True):
    r = subprocess.run(['ip', *args], capture_output=True, text=True, timeout=20)
    if check and r.returncode != 0:
        raise RuntimeError(f'ip {" ".join(args)} failed (exit {r.returncode}): {r.stderr.strip()}')
    return r


def unavailable_reason():
    """None when namespaces can be made here, else why not (for a skip message)."""
    if os.geteuid() != 0:
        return 'network-namespace tests need root (ip netns add); run them as root'
    if shutil.which('ip') is None:
        return '`ip` (iproute2) is not installed; apt-get install iproute2'
    return None


def list_namespaces():
    r = _ip('netns', 'list', check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale():
    """Delete rmwA_<pid>/rmwB_<pid> namespaces left by runs whose process is gone. Returns them."""
    removed = []
    for ns in list_namespaces():
        m = _STALE_RE.match(ns)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            _ip('netns', 'del', ns, check=False)
            removed.append(ns)
    return removed


class NetnsPair:
    """Hosts 'a' and 'b'. `create()` builds them (deleting any namespace of the same name first),
    `delete()` removes them (idempotent; also runs from `with`)."""

    VETH = {'a': 'rmwvA', 'b': 'rmwvB'}

    def __init__(self, tag=None, subnet=None, mtu=1500, multicast_route=True):
        self.tag = str(tag if tag is not None else os.getpid())
        self.names = {'a': f'rmwA_{self.tag}', 'b': f'rmwB_{self.tag}'}
        if subnet is None:
            # Namespaces are private, so overlapping subnets between pairs are harmless; vary it
            # anyway so that addresses in logs tell runs apart.
            subnet = 1 + os.getpid() % 254
        self.subnet = subnet
        self.addrs = {'a': f'10.201.{subnet}.1', 'b': f'10.201.{subnet}.2'}
        self.mtu = mtu
        self.multicast_route = multicast_route
        self.created = False

    # -- life cycle ----------------------------------------------------------------------------
    def create(self):
        remove_stale()
        self.delete(force=True)
        try:
            for ns in self.names.values():
                _ip('netns', 'add', ns)
            a, b = self.names['a'], self.names['b']
            # Created directly inside the namespaces: no name clash in the caller's namespace.
            _ip('link', 'add', self.VETH['a'], 'netns', a, 'type', 'veth',
                'peer', 'name', self.VETH['b'], 'netns', b)
            for h in ('a', 'b'):
                ns, dev = self.names[h], self.VETH[h]
                _ip('-n', ns, 'link', 'set', 'lo', 'up')
                _ip('-n', ns, 'link', 'set', dev, 'mtu', str(self.mtu))
                _ip('-n', ns, 'addr', 'add', f'{self.addrs[h]}/24', 'dev', dev)
                _ip('-n', ns, 'link', 'set', dev, 'up')
                if self.multicast_route:
                    # Fast DDS sets the outgoing interface of its multicast sockets itself, but
                    # anything that relies on the routing table (plain sockets, other DDS) needs it.
                    _ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
            self.created = True
        except BaseException:
            self.delete(force=True)
            raise
        return self

    def delete(self, force=False):
        if not (self.created or force):
            return
        for ns in self.names.values():
            if ns in list_namespaces():
                # Deleting a namespace also deletes its end of the veth (and so the pair).
                _ip('netns', 'del', ns, check=False)
        self.created = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()
        return False

    # -- use -----------------------------------------------------------------------------------
    def exec_prefix(self, host):
        """Command prefix that runs a program on host 'a' or 'b'."""
        return ['ip', 'netns', 'exec', self.names[host.lower()]]

    def peer_addr(self, host):
        return self.addrs['b' if host.lower() == 'a' else 'a']

    def link_stats(self, host):
        """{'rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'} of the host's veth end (proves
        traffic crossed the link)."""
        import json
        r = _ip('-j', '-s', '-n', self.names[host.lower()], 'link', 'show', 'dev', self.VETH[host.lower()])
        st = json.loads(r.stdout)[0]['stats64']
        return {'rx_bytes': st['rx']['bytes'], 'tx_bytes': st['tx']['bytes'],
                'rx_packets': st['rx']['packets'], 'tx_packets': st['tx']['packets']}

    def describe(self):
        return (f'{self.names["a"]} ({self.addrs["a"]}) <-veth mtu {self.mtu}-> '
                f'{self.names["b"]} ({self.addrs["b"]})')


PROBE_GROUP = '239.255.0.1'  # the group Fast DDS's SPDP uses


def udp_multicast_probe(pair, python, src='a', dst='b', port=17411, timeout=5.0):
    """True if a UDP datagram sent by `src` to PROBE_GROUP:port reaches a socket on `dst` that
    joined the group on its veth (the path DDS discovery takes), False otherwise."""
    recv = (
        'import socket,struct,sys\n'
        's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n'
        's.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n'
        f's.bind(("",{port}))\n'
        f's.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,socket.inet_aton("{PROBE_GROUP}")'
        f'+socket.inet_aton("{pair.addrs[dst]}"))\n'
        f's.settimeout({timeout})\n'
        'print("ready",flush=True)\n'
        'd,a=s.recvfrom(100)\n'
        'print(d.decode(),a[0],flush=True)\n')
    send = (
        'import socket,time\n'
        's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n'
        's.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_TTL,1)\n'
        'for _ in range(20):\n'
        f'    s.sendto(b"probe",("{PROBE_GROUP}",{port})); time.sleep(0.05)\n')
    r = subprocess.Popen([*pair.exec_prefix(dst), python, '-c', recv], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        if r.stdout.readline().strip() != 'ready':
            return False
        s = subprocess.Popen([*pair.exec_prefix(src), python, '-c', send],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            out, _ = r.communicate(timeout=timeout + 5)
        finally:
            s.kill()
            s.wait()
        return out.startswith('probe ' + pair.addrs[src])
    finally:
        if r.poll() is None:
            r.kill()
            r.wait()


# -- ROS processes on the two hosts (used through the `hosts` fixture of conftest.py) -------------

# Every child of the tests gets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST; across hosts it must be
# SUBNET (Fast DDS's default multicast discovery).
HOST_ENV = {'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'}


class Host:
    """One side of the pair: `start()` runs a test node there with the launcher's environment,
    watchdog, log and process-group handling. Host 'A' runs side 'ours' (rmw_shm_rs, or
    rmw_fastrtps_cpp with RMW_SHM_RS_TEST_IMPL=fastrtps), host 'B' side 'fastrtps' (stock)."""

    def __init__(self, launcher, pair, key, side):
        self.launcher, self.pair, self.key, self.side = launcher, pair, key, side
        self.label = key.upper()
        self.netns = pair.names[key]
        self.addr = pair.addrs[key]

    def start(self, name, script, *args, extra_env=None):
        env = dict(HOST_ENV)
        env.update(extra_env or {})
        return self.launcher.start(f'{self.label}_{name}', script, *args, side=self.side,
                                   extra_env=env, netns=self.netns)

    def check_rmw(self, proc):
        self.launcher.check_rmw(proc, side=self.side)

    @property
    def rmw(self):
        """The RMW identifier this host's nodes must report."""
        return self.launcher.ros.ids[self.side]

    def __repr__(self):
        return f'host {self.label} ({self.side}, {self.netns}, {self.addr})'


class Hosts:
    def __init__(self, launcher, pair, side_a='ours', side_b='fastrtps'):
        self.launcher, self.pair = launcher, pair
        self.a = Host(launcher, pair, 'a', side_a)
        self.b = Host(launcher, pair, 'b', side_b)

    def __getitem__(self, key):
        return self.a if key.lower() == 'a' else self.b

    def other(self, host):
        return self.b if host is self.a else self.a

    def reports(self, n=40):
        return f'{self.pair.describe()}\n{self.launcher.reports(n)}'


if __name__ == '__main__':
    # Manual check: python3 test/netns.py  (creates a pair, pings across, deletes it)
    why = unavailable_reason()
    if why:
        raise SystemExit(why)
    with NetnsPair() as p:
        print(p.describe())
        import sys
        ok = udp_multicast_probe(p, sys.executable)
        print('multicast A -> B:', 'ok' if ok else 'FAILED')
        print(p.link_stats('a'))
