"""Give the nodes of one test a shared-memory file prefix of their own, to list exactly the files they
create (other tests and other rmw_shm_rs processes share /dev/shm and /tmp/iceoryx2).

iceoryx2 reads `config/iceoryx2.toml` relative to the working directory first; the Launcher starts
every node in the test's tmp_path, so a config there with `[global] prefix = "<prefix>"` makes every
file those nodes create, in /dev/shm and under /tmp/iceoryx2, start with that prefix (node
directories, named by node id, are the only exception). Used by test_security.py and
test_shutdown.py.
"""

import itertools
import os
from pathlib import Path

SHM_DIR = Path('/dev/shm')
IOX2_DIR = Path('/tmp/iceoryx2')
_counter = itertools.count()


def isolate(workdir, tag):
    """Writes the config into `workdir`; returns the prefix."""
    prefix = f'iox2{tag}{os.getpid()}n{next(_counter)}_'
    cfg = Path(workdir) / 'config'
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / 'iceoryx2.toml').write_text(f'[global]\nprefix = "{prefix}"\n')
    return prefix


def files(prefix):
    """Every non-directory whose name starts with `prefix`, in /dev/shm and under /tmp/iceoryx2."""
    out = [p for p in SHM_DIR.glob(prefix + '*')]
    if IOX2_DIR.is_dir():
        for root, _dirs, names in os.walk(IOX2_DIR):
            out += [Path(root) / n for n in names if n.startswith(prefix)]
    return sorted(out)


def is_global_mgmt(path):
    """iceoryx2's global management segment: a 4-byte node counter (16-byte file), mode 0666 by
    design, one per prefix and host, never removed."""
    return str(path).endswith('.global_mgmt')


def leftovers(prefix):
    """Files of `prefix` other than the global management segment."""
    return [p for p in files(prefix) if not is_global_mgmt(p)]


def remove(prefix):
    for p in files(prefix):
        try:
            p.unlink()
        except OSError:
            pass
