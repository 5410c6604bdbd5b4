"""Security (issue 7, docs/security.md) through rclpy:

- ROS_SECURITY_ENABLE=true + ROS_SECURITY_STRATEGY=Enforce: rclpy.init fails. With a keystore
  (ROS_SECURITY_KEYSTORE/enclaves exists) rcl reaches rmw_init, which refuses with "security is not
  supported by rmw_shm_rs" and creates no shared memory at all; without one, rcl itself fails
  earlier (its message is "error not set"). Never a running insecure node.
- Permissive: each process prints one warning and runs; talker and listener exchange messages.
- Shared-memory files are readable by their user only: run as root, a process of user `nobody`
  cannot open any segment of a root talker (EACCES), and the `rmw_shm_rs` tool run as `nobody`
  neither sees the talker's node nor receives its messages. Skipped when not root.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import shm_isolation as iso
from conftest import REPO, TEST_IMPL

pytestmark = pytest.mark.skipif(TEST_IMPL == 'fastrtps',
                                reason='rmw_shm_rs behaviour (rmw_fastrtps_cpp has security)')

NOT_SUPPORTED = 'security is not supported by rmw_shm_rs'
WARNING = f'[WARN] [rmw_shm_rs]: {NOT_SUPPORTED}'
CLI = Path(os.environ.get('RMW_SHM_RS_TARGET_DIR') or REPO / 'target') / 'release' / 'rmw_shm_rs'
NOBODY = 65534


def keystore(tmp_path):
    """The least rcl accepts for enclave '/': ROS_SECURITY_KEYSTORE/enclaves must be a directory."""
    ks = tmp_path / 'keystore'
    (ks / 'enclaves').mkdir(parents=True)
    return ks


def security_env(strategy, ks=None):
    env = {'ROS_SECURITY_ENABLE': 'true', 'ROS_SECURITY_STRATEGY': strategy,
           'RMW_SHM_RS_LOG': 'off'}
    if ks is not None:
        env['ROS_SECURITY_KEYSTORE'] = str(ks)
    return env


def test_enforce_fails_in_rmw_init_and_creates_no_shared_memory(launcher, tmp_path):
    prefix = iso.isolate(tmp_path, 'enf')
    try:
        p = launcher.start('enforce', 'sec_node.py', 'init', '--watchdog', 60,
                           extra_env=security_env('Enforce', keystore(tmp_path)))
        rc = launcher.wait(p, 70)
        out = p.output()
        assert rc == 3, p.report()
        assert f'sec_node: init failed: RCLError: failed to initialize rcl: rmw_init: {NOT_SUPPORTED}' \
            in out, p.report()
        assert 'ROS_SECURITY_STRATEGY=Enforce' in out, p.report()
        assert 'sec_node: RMW' not in out, p.report()
        # Refused before the shared-memory transport started: not one iceoryx2 file.
        assert iso.files(prefix) == [], iso.files(prefix)
    finally:
        iso.remove(prefix)


def test_enforce_without_keystore_fails_in_rcl(launcher):
    p = launcher.start('enforce_no_keystore', 'sec_node.py', 'init', '--watchdog', 60,
                       extra_env=security_env('Enforce'))
    rc = launcher.wait(p, 70)
    out = p.output()
    assert rc == 3, p.report()
    # rcl_get_security_options_from_environment fails before rmw_init (and sets no message).
    assert 'sec_node: init failed: RCLError: failed to initialize rcl' in out, p.report()
    assert NOT_SUPPORTED not in out and 'sec_node: RMW' not in out, p.report()


def test_permissive_warns_and_runs(launcher, tmp_path):
    ks = keystore(tmp_path)
    # The listener without a keystore (rcl passes nothing: the library reads ROS_SECURITY_ENABLE),
    # the talker with one (rcl passes the enclave directory).
    listener = launcher.start('listener', 'sec_node.py', 'listener', '--count', 5, '--watchdog', 90,
                              extra_env=security_env('Permissive'))
    assert launcher.wait_for_line(listener, 'sec_node: ready', 60), listener.report()
    talker = launcher.start('talker', 'sec_node.py', 'talker', '--secret', 'permissive',
                            '--watchdog', 90, extra_env=security_env('Permissive', ks))
    rc = launcher.wait(listener, 80)
    launcher.stop(talker)
    assert rc == 0, listener.report()
    assert "heard: 'permissive " in listener.output(), listener.report()
    for p in (listener, talker):
        launcher.check_rmw(p)
        out = p.output()
        assert out.count(NOT_SUPPORTED) == 1, p.report()
        assert WARNING in out and 'WITHOUT security' in out, p.report()
    assert 'Found security directory' in talker.output(), talker.report()


def _as_nobody(cmd, cwd, timeout=30):
    return subprocess.run(cmd, cwd=cwd, user=NOBODY, group=NOBODY, extra_groups=[],
                          env={'PATH': '/usr/bin:/bin', 'HOME': str(cwd)},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


# Run as `nobody` with the system python (the venv under /root is out of its reach).
_OPEN_ALL = '''
import errno, json, os, sys
res = {}
for p in sys.argv[1:]:
    try:
        os.close(os.open(p, os.O_RDONLY))
        res[p] = 'opened'
    except OSError as e:
        res[p] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps(res))
'''


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to run a process as another user')
def test_segments_unreadable_by_another_user(launcher, tmp_path):
    py = shutil.which('python3', path='/usr/bin:/bin')
    if py is None:
        pytest.skip('no system python3 for the process of user nobody')
    if not CLI.is_file():
        pytest.fail(f'{CLI} is missing: build it (scripts/bootstrap.sh runs cargo build --release)')
    prefix = iso.isolate(tmp_path, 'seg')
    secret = f'rmw-shm-rs-secret-{os.getpid()}'
    nobody_dir = Path(f'/tmp/rmw_shm_rs_nobody_{os.getpid()}')
    nobody_root = Path(f'/tmp/rmw_shm_rs_nobody_iox2_{os.getpid()}')
    try:
        listener = launcher.start('listener', 'sec_node.py', 'listener', '--watchdog', 120)
        assert launcher.wait_for_line(listener, 'sec_node: ready', 60), listener.report()
        talker = launcher.start('talker', 'sec_node.py', 'talker', '--secret', secret,
                                '--period', 0.05, '--watchdog', 120)
        assert launcher.wait_for_line(listener, f"heard: '{secret} ", 60), launcher.reports()

        # Every file of the two root processes: owner-only, except iceoryx2's 16-byte counter.
        files = iso.files(prefix)
        assert len(files) > 20, files
        holds_secret = []
        for f in files:
            st = f.lstat()
            assert st.st_uid == 0, f
            if iso.is_global_mgmt(f):
                assert st.st_size == 16, f
                continue
            assert st.st_mode & 0o077 == 0, f'{f}: mode {oct(st.st_mode & 0o7777)}'
            if f.is_file() and secret.encode() in f.read_bytes():
                holds_secret.append(f)
        assert holds_secret, 'the secret is in no segment: the test would prove nothing'

        # A process of user nobody opens none of them (the secret's segments included).
        paths = [str(f) for f in files if not iso.is_global_mgmt(f)]
        nobody_dir.mkdir(mode=0o755)
        os.chown(nobody_dir, NOBODY, NOBODY)
        r = _as_nobody([py, '-c', _OPEN_ALL, *paths], nobody_dir)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout)
        assert set(res) == set(paths)
        opened = [p for p, e in res.items() if e != 'EACCES']
        assert not opened, f'not refused with EACCES: {[(p, res[p]) for p in opened]}'

        # The rmw_shm_rs tool as nobody: with the default iceoryx2 config it cannot even start
        # (/tmp/iceoryx2 is root's); with its own root path and the talker's prefix it starts
        # but finds neither the talker's node nor any message.
        domain = str(launcher.domain)
        r = _as_nobody([str(CLI), 'graph', '--domain', domain], nobody_dir)
        assert r.returncode == 1 and 'cannot create the iceoryx2 node' in r.stderr, r
        (nobody_dir / 'config').mkdir()
        (nobody_dir / 'config' / 'iceoryx2.toml').write_text(
            f'[global]\nprefix = "{prefix}"\nroot-path = "{nobody_root}/"\n')
        r = _as_nobody([str(CLI), 'graph', '--domain', domain], nobody_dir)
        assert 'sec_talker' not in r.stdout and 'sec_listener' not in r.stdout, r
        assert f'domain {domain}: 0 nodes' in r.stdout, r
        r = _as_nobody([str(CLI), 'hz', '/sec_chatter', '--domain', domain, '--seconds', '1'],
                       nobody_dir)
        assert r.returncode == 1 and 'no publisher of /sec_chatter' in r.stderr, r
        assert 'messages:' not in r.stdout, r

        # Meanwhile the root pair kept talking.
        heard = listener.output().count(f"heard: '{secret} ")
        time.sleep(0.5)
        assert listener.output().count(f"heard: '{secret} ") > heard, listener.report()
        launcher.stop(talker)
        launcher.stop(listener)
    finally:
        launcher.stop_all()
        shutil.rmtree(nobody_dir, ignore_errors=True)
        shutil.rmtree(nobody_root, ignore_errors=True)
        iso.remove(prefix)
