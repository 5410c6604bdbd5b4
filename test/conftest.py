"""Fixtures for the rmw_shm_rs integration tests.

Every ROS process is a child `python -u test/nodes/<node>.py ...` started with one of two environments:

  ours      rmw_shm_rs: in the PyPI layout LD_PRELOAD=<librmw_shm_rs.so> RMW_IMPLEMENTATION=rmw_shm_rs,
            on a standard ROS install RMW_IMPLEMENTATION=rmw_shm_rs (rmw_implementation loads it)
  fastrtps  the stock rmw_fastrtps_cpp (no preload; RMW_IMPLEMENTATION unset in the PyPI layout)

Both come from target/rmw_shm_rs.env (written by scripts/bootstrap.sh; override the path with
RMW_SHM_RS_ENV_FILE). RMW_SHM_RS_TEST_IMPL=fastrtps makes "ours" run on rmw_fastrtps_cpp as well, to
check the tests themselves. Each test gets its own ROS_DOMAIN_ID; every child has a watchdog
and is killed (process group) when the test ends; its output is shown when the test fails.
"""

import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NODES = REPO / 'test' / 'nodes'
ENV_FILE = Path(os.environ.get('RMW_SHM_RS_ENV_FILE', REPO / 'target' / 'rmw_shm_rs.env'))
TEST_IMPL = os.environ.get('RMW_SHM_RS_TEST_IMPL', 'ours')

# Variables from the calling shell that must not leak into the children.
_SCRUB = ('LD_PRELOAD', 'RMW_IMPLEMENTATION', 'ROS_DOMAIN_ID',
          'PYTEST_CURRENT_TEST', 'PYTEST_ADDOPTS')


def _load_env_file():
    if not ENV_FILE.is_file():
        raise pytest.UsageError(f'{ENV_FILE} does not exist: run scripts/bootstrap.sh first')
    base = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    out = subprocess.run(['bash', '-c', 'set -a; . "$1" >/dev/null; '
                          'exec env -0', 'env', str(ENV_FILE)],
                         env=base, capture_output=True, check=True)
    env = {}
    for item in out.stdout.split(b'\0'):
        if item:
            k, _, v = item.decode().partition('=')
            env[k] = v
    return env


class RosEnv:
    def __init__(self):
        env = _load_env_file()
        self.mode = env.get('RMW_SHM_RS_MODE', 'pypi')
        self.lib = env.get('RMW_SHM_RS_LIB', '')
        self.python = env.get('RMW_SHM_RS_PYTHON') or sys.executable
        env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
        # Stock Fast DDS's shared-memory transport leaves port files in /dev/shm when a process
        # is killed, and a later participant can spin forever opening a stale one (seen on a
        # long-used machine). Under LOCALHOST discovery rmw_fastrtps sets up its shared-memory
        # transport whatever this variable says (docs/remote.md); rmw_shm_rs's processes sweep
        # the files of dead ones (docs/robustness.md).
        env.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'UDPv4')
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONDONTWRITEBYTECODE'] = '1'
        env.setdefault('RCUTILS_LOGGING_BUFFERED_STREAM', '0')
        self.ours_env = dict(env)
        fast = {k: v for k, v in env.items() if k not in ('LD_PRELOAD',)}
        if self.mode == 'pypi':
            fast.pop('RMW_IMPLEMENTATION', None)
        else:
            fast['RMW_IMPLEMENTATION'] = 'rmw_fastrtps_cpp'
        self.fastrtps_env = fast
        if TEST_IMPL == 'fastrtps':
            self.ours_env = dict(fast)
        self.ids = {'ours': 'rmw_fastrtps_cpp' if TEST_IMPL == 'fastrtps' else 'rmw_shm_rs',
                    'fastrtps': 'rmw_fastrtps_cpp'}

    def env(self, side):
        return dict(self.ours_env if side == 'ours' else self.fastrtps_env)

    def types_env(self):
        """Env in which msgutil can list the message types (AMENT_PREFIX_PATH)."""
        return self.fastrtps_env


_ros_env = None


def ros_env_singleton():
    global _ros_env
    if _ros_env is None:
        _ros_env = RosEnv()
    return _ros_env


@pytest.fixture(scope='session')
def ros():
    r = ros_env_singleton()
    if r.mode == 'pypi' and TEST_IMPL != 'fastrtps' and not Path(r.lib).is_file():
        pytest.fail(f'{r.lib} is missing: build it (scripts/bootstrap.sh)')
    return r


_domain_counter = itertools.count()
_domain_base = random.Random(os.getpid() ^ int(time.time())).randrange(200)


def next_domain_id():
    # 1..200; Fast DDS accepts up to 232 with the default port mapping.
    return 1 + (_domain_base + next(_domain_counter)) % 200


@pytest.fixture
def domain_id():
    return next_domain_id()


def _set_pdeathsig():
    """Child side: die when the pytest process dies (PR_SET_PDEATHSIG), own process group."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:  # noqa: BLE001
        pass


class Proc:
    def __init__(self, name, popen, log):
        self.name, self.popen, self.log = name, popen, log

    def output(self):
        try:
            return self.log.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def tail(self, n=40):
        lines = self.output().splitlines()
        return '\n'.join(lines[-n:])

    def describe_exit(self):
        rc = self.popen.returncode
        if rc is None:
            return 'still running'
        if rc < 0:
            try:
                return f'killed by {signal.Signals(-rc).name}'
            except ValueError:
                return f'killed by signal {-rc}'
        if rc == 124:
            return 'exit 124 (its watchdog fired)'
        return f'exit {rc}'

    def report(self, n=40):
        out, mark, stacks = self.output().partition(STACKS_MARK)
        text = '\n'.join(out.splitlines()[-n:])
        if mark:
            text += f'\n{mark.strip()}\n' + '\n'.join(stacks.splitlines()[:300])
        return f'--- {self.name} ({self.describe_exit()}), last lines of {self.log}:\n{text}'


STACKS_MARK = '\n==== still running at its deadline: stacks (gdb) ====\n'


def dump_stacks(proc):
    """Appends every thread's stack of a process that did not end in time to its log (gdb, at
    most 30 s): what a hang was waiting on, for the report."""
    gdb = shutil.which('gdb')
    if not gdb or proc.popen.poll() is not None:
        return
    try:
        out = subprocess.run([gdb, '-p', str(proc.popen.pid), '-batch', '-nx',
                              '-ex', 'thread apply all bt 25'], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        out = f'gdb failed: {e!r}'
    frames = [line for line in out.splitlines() if line.startswith(('Thread ', '#'))]
    with open(proc.log, 'a') as f:
        f.write(STACKS_MARK + '\n'.join(frames) + '\n')


class Launcher:
    """Starts test nodes, waits for them with timeouts, kills every leftover at the end."""

    def __init__(self, ros, workdir, domain):
        self.ros, self.workdir, self.domain = ros, Path(workdir), domain
        self.procs = []

    def start(self, name, script, *args, side='ours', extra_env=None, netns=None, prefix=()):
        """`netns`: run it in that network namespace (`ip netns exec <netns> ...`, see netns.py);
        `prefix`: a command that exec()s the node (e.g. `unshare -m sh -c '...; exec "$@"' sh`)."""
        env = self.ros.env(side)
        env['ROS_DOMAIN_ID'] = str(self.domain)
        if extra_env:
            env.update(extra_env)
        log = self.workdir / f'{len(self.procs):02d}_{name}.log'
        f = open(log, 'wb')
        cmd = [self.ros.python, '-u', str(NODES / script), *map(str, args)]
        cmd = [*map(str, prefix), *cmd]
        if netns:
            # ip exec()s the command: same pid, so the process group and watchdog work unchanged.
            cmd = ['ip', 'netns', 'exec', netns, *cmd]
        shown = ' '.join(f'{k}={v}' for k, v in sorted((extra_env or {}).items()))
        f.write(f'$ ROS_DOMAIN_ID={self.domain} side={side} {shown + " " if shown else ""}'
                f'{" ".join(cmd)}\n'.encode())
        f.flush()
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.workdir, start_new_session=True, preexec_fn=_set_pdeathsig)
        f.close()
        proc = Proc(name, p, log)
        self.procs.append(proc)
        return proc

    def wait(self, proc, timeout):
        """Exit code, or None when still running after `timeout` (then its threads' stacks are
        appended to its log when gdb is installed, and it is killed)."""
        try:
            return proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            dump_stacks(proc)
            self.stop(proc)
            return None

    def wait_for_line(self, proc, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in proc.output():
                return True
            if proc.popen.poll() is not None:
                return text in proc.output()
            time.sleep(0.05)
        return False

    def stop(self, proc, grace=3.0):
        p = proc.popen
        if p.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self):
        for proc in self.procs:
            self.stop(proc)
        # Anything left in the process groups (helpers) goes too.
        for proc in self.procs:
            try:
                os.killpg(proc.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def reports(self, n=40):
        return '\n'.join(p.report(n) for p in self.procs)

    def check_rmw(self, proc, side='ours'):
        """Assert the node announced the RMW it should run on."""
        want = self.ros.ids[side]
        text = proc.output()
        assert f'RMW {want}' in text, (
            f'{proc.name} did not run on {want}:\n{proc.report()}')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, 'rep_' + rep.when, rep)


@pytest.fixture
def launcher(ros, tmp_path, domain_id, request):
    lau = Launcher(ros, tmp_path, domain_id)
    yield lau
    lau.stop_all()
    rep = getattr(request.node, 'rep_call', None)
    if rep is not None and rep.failed and lau.procs:
        sys.stderr.write(f'\n==== child processes of {request.node.name} ====\n{lau.reports(60)}\n')


def pytest_report_header(config):
    try:
        r = ros_env_singleton()
    except Exception as e:  # noqa: BLE001
        return [f'rmw_shm_rs: environment not loaded: {e}']
    return [f'rmw_shm_rs: env file {ENV_FILE}, mode {r.mode}, "ours" = {r.ids["ours"]}'
            f'{" (RMW_SHM_RS_TEST_IMPL=fastrtps)" if TEST_IMPL == "fastrtps" else ""}, lib {r.lib}']


@pytest.fixture(scope='session')
def instances(ros, tmp_path_factory):
    """(pickle path, entries): a default and RANDOM_PER_TYPE random instances of every type."""
    import pickle
    from helpers import RANDOM_PER_TYPE, SEED
    work = tmp_path_factory.mktemp('instances')
    lau = Launcher(ros, work, next_domain_id())
    path = work / 'instances.pkl'
    p = lau.start('generate', 'serdes_worker.py', 'generate', '--out', path, '--seed', SEED,
                  '--random', RANDOM_PER_TYPE, '--watchdog', 120, side='fastrtps')
    rc = lau.wait(p, 130)
    lau.stop_all()
    assert rc == 0, f'generating instances failed:\n{p.report()}'
    with open(path, 'rb') as f:
        entries = pickle.load(f)
    return path, entries


# ---- Two hosts in network namespaces (test_remote.py, marker `remote`; setup in netns.py) ----------

def pytest_configure(config):
    config.addinivalue_line('markers', 'remote: two hosts in network namespaces (root; '
                                       'host A "ours", host B stock rmw_fastrtps_cpp); -m remote')


@pytest.fixture(scope='module')
def netns_pair():
    """A NetnsPair (rmwA_<pid>, rmwB_<pid>, veth), created once per module and always deleted;
    skips when namespaces cannot be made here."""
    import netns
    why = netns.unavailable_reason()
    if why:
        pytest.skip(why)
    pair = netns.NetnsPair()
    try:
        pair.create()
    except RuntimeError as e:
        pytest.skip(f'cannot create network namespaces here: {e}')
    try:
        yield pair
    finally:
        pair.delete()


@pytest.fixture
def hosts(launcher, netns_pair):
    """hosts.a / hosts.b: `hosts.a.start(name, script, *args, extra_env=None)` starts a node on
    host A ("ours") / B (stock rmw_fastrtps_cpp) through this test's launcher."""
    import netns
    return netns.Hosts(launcher, netns_pair)


R2R_BUILD = REPO / 'scripts' / 'build_r2r.sh'
R2R_BUILD_TIMEOUT = 1200


@pytest.fixture(scope='session')
def r2r_bin(ros):
    """Directory with r2r_talker and r2r_listener (built by scripts/build_r2r.sh)."""
    env = {k: v for k, v in os.environ.items() if k not in ('LD_PRELOAD', 'RMW_IMPLEMENTATION')}
    try:
        out = subprocess.run(['bash', str(R2R_BUILD)], env=env, capture_output=True, text=True,
                             timeout=R2R_BUILD_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f'scripts/build_r2r.sh took more than {R2R_BUILD_TIMEOUT} s:\n{e.stdout}\n{e.stderr}')
    if out.returncode == 3:
        pytest.skip(f'r2r demo not built, a prerequisite is missing: {out.stderr.strip()}')
    assert out.returncode == 0, (f'scripts/build_r2r.sh failed (exit {out.returncode}):\n'
                                 f'{out.stdout}\n{out.stderr}')
    bin_dir = Path(out.stdout.strip().splitlines()[-1])
    for b in ('r2r_talker', 'r2r_listener'):
        assert (bin_dir / b).is_file(), f'{bin_dir / b} missing after the build:\n{out.stdout}'
    return bin_dir
