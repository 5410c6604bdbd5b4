#!/usr/bin/env python3
"""Turns the raw outputs of bench/run.sh into tables (stdout) and docs/benchmarks.md.

Inputs: the LAT/TPUT/LOAD lines of bench/pingpong, the LOAN lines of bench/pingpong_loan and
the REMOTE/REMOTE_RUN/REMOTE_LINK lines of bench/remote.sh (results.txt), the machine description
(machine.txt, key=value), criterion's estimates (target/criterion/<group>/<bench>/new/*.json) and
bench/analysis.md (hand-written notes on where the time goes, appended as they are).
Standard library only.
"""

import argparse
import json
import os
import sys

FAST = "rmw_fastrtps_cpp"
OURS = "rmw_shm_rs"
# Issue 4: "loaned-message latency flat (within 20%) from 64 B to 4 MiB".
FLAT_TARGET = 1.2


def parse_kv(line):
    out = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v) if k not in ("rmw", "loadavg", "phase") else v
            except ValueError:
                out[k] = v
    return out


def load_results(path):
    lat, tput, load = {}, {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("LAT "):
                d = parse_kv(line)
                lat[(d["rmw"], int(d["size"]))] = d
            elif line.startswith("TPUT "):
                d = parse_kv(line)
                tput[(d["rmw"], int(d["size"]))] = d
            elif line.startswith("LOAD ") and " phase=remote_" not in line:
                d = parse_kv(line)
                load[(d["rmw"], d["phase"])] = d["loadavg"].replace("/", " ")
    return lat, tput, load


def load_loans(path):
    """{size: LOAN line} of bench/pingpong_loan (rmw_shm_rs only)."""
    loans = {}
    with open(path) as f:
        for line in f:
            if line.startswith("LOAN "):
                d = parse_kv(line)
                loans[int(d["size"])] = d
    return loans


def load_remote(path):
    """bench/remote.sh's lines: ({(rmw, size): pooled REMOTE}, {(rmw, size): [REMOTE_RUN, ..]},
    [REMOTE_LINK, ..], {phase: loadavg})."""
    pooled, runs, links, load = {}, {}, [], {}
    with open(path) as f:
        for line in f:
            if line.startswith("REMOTE "):
                d = parse_kv(line)
                pooled[(d["rmw"], int(d["size"]))] = d
            elif line.startswith("REMOTE_RUN "):
                d = parse_kv(line)
                runs.setdefault((d["rmw"], int(d["size"])), []).append(d)
            elif line.startswith("REMOTE_LINK "):
                links.append(parse_kv(line))
            elif line.startswith("LOAD ") and " phase=remote_" in line:
                d = parse_kv(line)
                load[(d["rmw"], d["phase"])] = d["loadavg"].replace("/", " ")
    return pooled, runs, links, load


def flatness(loans):
    """(max median / min median, smallest size, largest size) over the sizes measured, or None."""
    med = {s: d["median"] for s, d in loans.items() if "median" in d}
    if len(med) < 2 or min(med.values()) <= 0:
        return None
    return max(med.values()) / min(med.values()), min(med), max(med)


def load_machine(path):
    m = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                m[k] = v
    return m


def load_criterion(root):
    """[(group, bench, ns, lo, hi, bytes or None)] in the order groups/benches appear."""
    rows = []
    if not root or not os.path.isdir(root):
        return rows
    for group in sorted(os.listdir(root)):
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir) or group == "report":
            continue
        for bench in sorted(os.listdir(gdir)):
            new = os.path.join(gdir, bench, "new")
            est_path = os.path.join(new, "estimates.json")
            if not os.path.isfile(est_path):
                continue
            with open(est_path) as f:
                est = json.load(f)
            # What criterion prints as "time": the slope estimate when it has one, else the mean.
            e = est.get("slope") or est["mean"]
            nbytes = None
            bpath = os.path.join(new, "benchmark.json")
            if os.path.isfile(bpath):
                with open(bpath) as f:
                    tp = json.load(f).get("throughput") or {}
                nbytes = tp.get("Bytes") or tp.get("BytesDecimal")
            rows.append(
                (
                    group,
                    bench,
                    e["point_estimate"],
                    e["confidence_interval"]["lower_bound"],
                    e["confidence_interval"]["upper_bound"],
                    nbytes,
                )
            )
    order = {"serialize": 0, "deserialize": 1, "deserialize_fresh": 2}
    group_order = {"image_4MiB": 0, "basic_types": 1, "strings": 2}
    rows.sort(key=lambda r: (group_order.get(r[0], 9), r[0], order.get(r[1], 9), r[1]))
    return rows


def size_label(n):
    n = int(n)
    if n >= 1 << 20:
        return f"{n >> 20} MiB"
    if n >= 1 << 10:
        return f"{n >> 10} KiB"
    return f"{n} B"


def us(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def rx(r):
    if r is None:
        return "n/a"
    return f"{r:.2f}×" if r < 1 else f"{r:.1f}×"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def ns_label(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def loan_target(loans):
    """[target, measured, verdict] of the flatness target, from the LOAN lines (None: not run)."""
    label = "loaned-message latency flat (within 20%) from 64 B to 4 MiB"
    if loans is None:
        return [label, "measured in the main run only (see the loaned-message section)", "n/a"]
    fl = flatness(loans)
    if fl is None:
        return [label, "not measured (no LOAN results: see target/bench/ping_loan.log)", "n/a"]
    r, lo, hi = fl
    meds = ", ".join(f"{size_label(s)} {us(loans[s]['median'])}" for s in sorted(loans))
    verdict = "met" if r <= FLAT_TARGET else "missed"
    if lo != 64 or hi != 4 << 20:
        verdict += f" (only {size_label(lo)}–{size_label(hi)} measured)"
    return [
        label,
        f"max/min median = {r:.2f} (target ≤ {FLAT_TARGET}; rmw_shm_rs medians, µs: {meds})",
        verdict,
    ]


def targets(lat, tput, loans=None):
    """Rows [target, measured, verdict] of issue 4's benchmark targets for one run; `loans` are
    its LOAN results (None: the loaned ping-pong was not part of this run)."""

    def g(dct, rmw, size, key):
        d = dct.get((rmw, size))
        return None if d is None or key not in d else d[key]

    big = 4 << 20
    t = []
    r64 = ratio(g(lat, FAST, 64, "median"), g(lat, OURS, 64, "median"))
    t.append(
        [
            "64 B median latency at least 5× lower",
            f"{rx(r64)} ({us(g(lat, FAST, 64, 'median'))} µs vs {us(g(lat, OURS, 64, 'median'))} µs)",
            "n/a" if r64 is None else ("met" if r64 >= 5 else "missed"),
        ]
    )
    r4 = ratio(g(lat, FAST, big, "median"), g(lat, OURS, big, "median"))
    t.append(
        [
            "4 MiB median latency at least 20× lower",
            f"{rx(r4)} ({us(g(lat, FAST, big, 'median'))} µs vs {us(g(lat, OURS, big, 'median'))} µs)",
            "n/a" if r4 is None else ("met" if r4 >= 20 else "missed"),
        ]
    )
    om, op99 = g(lat, OURS, big, "median"), g(lat, OURS, big, "p99")
    rp = ratio(op99, om)
    t.append(
        [
            "4 MiB p99 at most 2× its median (rmw_shm_rs)",
            f"p99/median = {rp:.2f} ({us(op99)} / {us(om)} µs)" if rp else "n/a",
            "n/a" if rp is None else ("met" if rp <= 2 else "missed"),
        ]
    )
    t.append(loan_target(loans))
    for label, fv, ov in (
        ("throughput run", g(tput, FAST, big, "cpu_msg"), g(tput, OURS, big, "cpu_msg")),
        ("ping-pong", g(lat, FAST, big, "cpu_msg"), g(lat, OURS, big, "cpu_msg")),
    ):
        rc = ratio(ov, fv)
        t.append(
            [
                f"CPU per 4 MiB message at most half ({label})",
                f"ours/fastrtps = {rc:.2f} ({us(ov)} µs vs {us(fv)} µs)" if rc else "n/a",
                "n/a" if rc is None else ("met" if rc <= 0.5 else "missed"),
            ]
        )
    return t


def compact_tables(lat, tput):
    """Latency and throughput of a second run, in short form."""

    def g(dct, rmw, size, key):
        d = dct.get((rmw, size))
        return None if d is None or key not in d else d[key]

    rows = []
    for s in sorted({s for (_, s) in lat}):
        fm, fp99 = g(lat, FAST, s, "median"), g(lat, FAST, s, "p99")
        om, op99 = g(lat, OURS, s, "median"), g(lat, OURS, s, "p99")
        rows.append([size_label(s), us(fm), us(fp99), us(om), us(op99), rx(ratio(fm, om)),
                     us(g(lat, FAST, s, "cpu_msg")), us(g(lat, OURS, s, "cpu_msg"))])
    lt = table(["payload", "fastrtps median", "fastrtps p99", "shm_rs median", "shm_rs p99",
                "median fastrtps/ours", "fastrtps CPU/msg", "shm_rs CPU/msg"], rows)
    rows = []
    for s in sorted({s for (_, s) in tput}):
        fr, orr = g(tput, FAST, s, "msgs_s"), g(tput, OURS, s, "msgs_s")
        rows.append([size_label(s),
                     f"{fr:,.0f} ({g(tput, FAST, s, 'MBps') or 0:,.1f} MB/s)" if fr else "n/a",
                     f"{orr:,.0f} ({g(tput, OURS, s, 'MBps') or 0:,.1f} MB/s)" if orr else "n/a",
                     rx(ratio(orr, fr)),
                     us(g(tput, FAST, s, "cpu_msg")), us(g(tput, OURS, s, "cpu_msg"))])
    tt = table(["payload", "fastrtps msg/s", "shm_rs msg/s", "ours/fastrtps",
                "fastrtps CPU/msg", "shm_rs CPU/msg"], rows)
    return lt, tt


def loan_section(loans, m):
    """The loaned-message section (markdown) and its table."""
    rows = []
    for s in sorted(loans):
        d = loans[s]
        rows.append([size_label(s), us(d.get("median")), us(d.get("p90")), us(d.get("p99")),
                     f"{us(d.get('min'))} / {us(d.get('max'))}", us(d.get("borrow_median")),
                     us(d.get("cpu_msg")), f"{int(d.get('n', 0))} ({int(d.get('lost', 0))} lost)"])
    tab = table(["payload", "median", "p90", "p99", "min / max", "borrow median", "CPU/msg",
                 "round trips"], rows)
    fl = flatness(loans)
    if fl is None:
        flat = "Flatness: not available (fewer than two sizes measured)."
    else:
        r, lo, hi = fl
        flat = (f"**Flatness** (max median / min median, {size_label(lo)} to {size_label(hi)}): "
                f"**{r:.2f}**; issue 4's target is within 20%, i.e. ≤ {FLAT_TARGET}: "
                f"**{'met' if r <= FLAT_TARGET else 'missed'}**.")
    text = f"""Program: `bench/pingpong_loan.c`, plain C on rcl with the loaned-message calls only. The
wheels ship no fixed-size message types of these sizes, so it defines them by hand: for each
payload size N, `bench_msgs/msg/Fixed<N>`, a C struct of exactly N bytes (`uint64 command`,
`uint64 seq`, `int64 stamp_ns`, `uint8[N-24] data`), as a hand-written
`rosidl_typesupport_introspection_c` type support. rmw_fastrtps_cpp cannot load such a type (it
needs generated `rosidl_typesupport_fastrtps` handles: "Type support not from this
implementation"), so this section is rmw_shm_rs only, and there is no ratio to compare.

ping `rcl_borrow_loaned_message`s a message, writes the 24-byte header only (never the payload:
that is the point of a zero-copy path) and `rcl_publish_loaned_message`s it; pong
`rcl_take_loaned_message`s it, borrows a message on the reply topic, copies the header into it,
publishes it loaned and returns the taken loan; ping takes the reply loaned. One topic pair per
size; QoS reliable, keep last {m.get('loan_depth', '4')}, volatile; the same pinning and scheduling
as above. Per size: warm-up round trips (10% of N, at least 20), then N timed round trips
(N = {m.get('loan_rounds', '?')}); a round trip runs from ping's borrow to the reply's loaned take.
Latencies are one-way (round trip / 2, µs); "borrow median" is ping's `rcl_borrow_loaned_message`
call alone (µs); CPU/msg as in the Image ping-pong ((ping + pong CPU per round trip) / 2, µs).
"""
    big = loans.get(max(loans)) if loans else None
    if big and big.get("borrow_median") and big.get("median") and big["borrow_median"] > 0.5 * big["median"]:
        text += (
            f"\nAt {size_label(max(loans))} ping's borrow alone takes {us(big['borrow_median'])} µs "
            f"of the {us(big['median'])} µs one-way median (pong borrows a message of the same size "
            "for each reply, too): the time grows with the size because lending a message "
            "prepares the whole sample (in this build `MessageType::init_raw` zeroes all of it "
            "before the type's init function), not because of any copy of the payload.\n"
        )
    return text + "\n" + tab + "\n\n" + flat + "\n", tab


def numpy_section(path):
    """The numpy helper section (markdown) and its table, from bench/numpy_bench.py's JSON."""
    with open(path) as f:
        runs = {r["config"]: r for r in json.load(f)}
    base = runs.get("plain/rmw_fastrtps_cpp", {}).get("MBps")
    seconds = max((r.get("seconds", 0) for r in runs.values()), default=0)
    repeat = max((len(r.get("all_MBps", [])) for r in runs.values()), default=1)
    what = {
        "helper/rmw_shm_rs": "helper: publish `image_to_cdr(arr)`, receive `raw=True` + `image_array`",
        "plain/rmw_fastrtps_cpp": "plain rclpy: `msg.data = arr.tobytes()`, `np.asarray(msg.data)`",
        "plain/rmw_shm_rs": "plain rclpy, as above",
        "helper/rmw_fastrtps_cpp": "helper, as above",
        "helper/rmw_shm_rs+malloc": "helper, glibc heap kept (`MALLOC_TRIM_THRESHOLD_`, "
                                    "`MALLOC_MMAP_THRESHOLD_` 256 MiB, `MALLOC_TOP_PAD_` 64 MiB)",
    }
    rows = []
    for label, r in runs.items():
        api, _, rmw = label.partition("/")
        rows.append([rmw.replace("+malloc", ""), what.get(label, api), f"{r['MBps']:,.0f}",
                     f"{r['msg_per_s']:.0f}", " / ".join(f"{x:,.0f}" for x in r.get("all_MBps", [])),
                     f"{r['MBps'] / base:.1f}x" if base else "?"])
    tab = table(["RMW", "code", "MB/s received", "msg/s", "all runs, MB/s",
                 "vs plain rclpy on rmw_fastrtps_cpp"], rows)
    text = (
        "bench/numpy_bench.py: one rclpy publisher sends 4 MiB rgba8 Images back to back (RELIABLE, "
        "KEEP_LAST 10) to one rclpy subscriber in another process; the subscriber counts what it "
        f"receives for {seconds:.0f} s after its first message. Each configuration runs {repeat} time(s) and "
        "the run with the median MB/s is shown: both processes share the 2 cores, so single runs vary by up to 2x. "
        "Receiving through the helper is a numpy view of the bytes rclpy took (no copy beyond the "
        "transport's); publishing through it builds the CDR bytes with one copy of the array.\n\n"
        + tab + "\n\n"
        "The helper's publishing side is limited by glibc, not by the copies: every 4 MiB Python `bytes` "
        "object (the helper's CDR and rclpy's own copy in `publish_raw`) grows the heap and is trimmed "
        "again when freed, so each message touches fresh pages and pays their page faults (two thirds of "
        "the publisher's CPU in `perf`). With the heap kept (the `+malloc` row: environment variables "
        "read by glibc at start-up, docs/numpy.md) the same code moves several times more. Plain rclpy on "
        "rmw_shm_rs allocates differently and is less affected.\n"
    )
    return text, tab


def remote_section(remote, m):
    """The "Other hosts" section (markdown) and its table; remote = load_remote(..)."""
    pooled, runs, links, load = remote
    sizes = sorted({s for (_, s) in pooled})

    def g(rmw, size, key):
        d = pooled.get((rmw, size))
        return None if d is None or key not in d else d[key]

    def r2(a, b):
        r = ratio(a, b)
        return "n/a" if r is None else f"{r:.2f}"

    rows = []
    for s in sizes:
        f = [g(FAST, s, k) for k in ("median", "p90", "p99")]
        o = [g(OURS, s, k) for k in ("median", "p90", "p99")]
        rows.append([size_label(s), *map(us, f), *map(us, o), r2(o[0], f[0]), r2(o[1], f[1]),
                     r2(o[2], f[2])])
    tab = table(["payload", "fastrtps→fastrtps median", "p90", "p99", "shm_rs→fastrtps median",
                 "p90", "p99", "median ours/fastrtps", "p90 ours/fastrtps", "p99 ours/fastrtps"],
                rows)

    def run_meds(rmw, s):
        return ", ".join(us(d.get("median")) for d in sorted(runs.get((rmw, s), []),
                                                               key=lambda d: d.get("run", 0)))

    def n_lost(rmw, s):
        return f"{int(g(rmw, s, 'n') or 0)} ({int(g(rmw, s, 'lost') or 0)} lost)"

    rows = []
    for s in sizes:
        rows.append([size_label(s), n_lost(FAST, s), n_lost(OURS, s), run_meds(FAST, s),
                     run_meds(OURS, s), us(g(FAST, s, "ping_cpu_rt")), us(g(OURS, s, "ping_cpu_rt")),
                     us(g(FAST, s, "pong_cpu_rt")), us(g(OURS, s, "pong_cpu_rt"))])
    detail = table(["payload", "fastrtps round trips", "shm_rs round trips",
                    "fastrtps median per run", "shm_rs median per run",
                    "ping CPU / RT, fastrtps", "ping CPU / RT, shm_rs",
                    "pong CPU / RT (with fastrtps ping)", "pong CPU / RT (with shm_rs ping)"],
                   rows)

    # The veth counters: did every run's data cross the link?
    link_rows = []
    for rmw in (FAST, OURS):
        ls = [d for d in links if d.get("rmw") == rmw]
        if not ls:
            continue
        pay = sum(d.get("payload_bytes", 0) for d in ls)
        tx = sum(d.get("tx_bytes", 0) for d in ls)
        rxb = sum(d.get("rx_bytes", 0) for d in ls)
        crossed = all(d.get("crossed") == 1 for d in ls)
        link_rows.append([rmw, f"{tx / 1e6:,.1f}", f"{rxb / 1e6:,.1f}", f"{pay / 1e6:,.1f}",
                          f"{(tx + rxb) / (2 * pay):.2f}" if pay else "n/a",
                          "yes" if crossed else "**no**"])
    link_tab = table(["ping on", "host A sent (MB)", "host A received (MB)",
                      "payload ping published (MB)", "link bytes per payload byte, each way",
                      "every run crossed the link"], link_rows)
    all_crossed = bool(links) and all(d.get("crossed") == 1 for d in links)
    one_min = []
    for v in load.values():
        try:
            one_min.append(float(v.split()[0]))
        except (ValueError, IndexError):
            pass
    loads = f"{min(one_min):.2f}–{max(one_min):.2f}" if one_min else "n/a"
    nruns = int(max([d.get("runs", 1) for d in pooled.values()] or [1]))
    transports = m.get("remote_transports", "default")
    pong_tr = ("Fast DDS's default transports" if transports in ("", "default")
               else f"`FASTDDS_BUILTIN_TRANSPORTS={transports}`")
    text = f"""Issue 5: latency to a stock ROS 2 node on another host. Program: the same `bench/pingpong`,
its two processes on two "hosts": network namespaces joined by a veth pair (`test/netns.py`,
MTU 1500, ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET, one domain id), driven by `bench/remote.sh`. Only
the network is separated: both namespaces share the machine's two CPUs (ping on CPU 0, pong on
CPU 1, as above) and its kernel, so this is the RTPS/UDP stack over a virtual link with no wire
delay, not a physical network.

- **Host B**: `pingpong pong` on stock rmw_fastrtps_cpp (no preload, {pong_tr}), a fresh one for
  every run.
- **Host A**: `pingpong ping` on stock rmw_fastrtps_cpp (**fastrtps→fastrtps**), or on rmw_shm_rs
  (**shm_rs→fastrtps**: `LD_PRELOAD` of the same snapshot, `RMW_IMPLEMENTATION=rmw_shm_rs`), whose
  remote path writes the CDR bytes of its own codec through its private rmw_fastrtps_cpp delegate
  (`rmw_publish_serialized_message`, UDPv4) and takes the echo from it
  (`rmw_take_serialized_message_with_info`, then its codec). Both pairs run the same DDS engine
  on the wire, so the ratio ours/fastrtps is what the delegate adds (expected ≈1).
- ping waits until its publisher and its subscription both count a match (rmw_shm_rs's matched
  counts include the delegate's remote matches), then for a SYNC round trip; QoS, warm-up and
  percentiles as in the main ping-pong. {nruns} run(s) per RMW, in alternating order (fastrtps,
  shm_rs, shm_rs, fastrtps, ...), {m.get('remote_rounds', '?')} timed round trips per run for
  64 B and 1 MiB; the percentiles are over the round trips of all runs together. No throughput
  phase.
- The namespaces share `/dev/shm`: host A's veth counters check that the data crossed the link
  (each way, at least the payload ping published, warm-up included).

"""
    if m.get("remote", "run").startswith("failed"):
        text += f"> **bench/remote.sh {m['remote']}**: the tables below hold what it measured.\n\n"
    text += tab + "\n\n" + detail + "\n\n"
    text += ("CPU in µs per round trip. pong is the same stock process in both pairs; ping's CPU is "
             "where the delegate's cost would show. Each run's own figures are in the raw "
             "`REMOTE_RUN` lines below: the medians per run show how much of a difference between "
             "the two pairs is run-to-run noise (a few slow round trips of several ms move the 1 MiB "
             "tails of either pair).\n\n")
    text += link_tab + "\n\n"
    if not all_crossed:
        text += ("> **Warning**: in at least one run host A's veth carried less than the payload: "
                 "that run's data did not (all) cross the link, so it is not a measurement of the "
                 "network path.\n\n")
    text += f"1-minute load average during these runs: {loads}.\n"
    return text, tab


def build(args):
    lat, tput, load = load_results(args.results)
    loans = load_loans(args.results)
    m = load_machine(args.machine)
    crit = load_criterion(args.criterion)
    sizes = sorted({s for (_, s) in lat})
    tsizes = sorted({s for (_, s) in tput})

    def g(dct, rmw, size, key):
        d = dct.get((rmw, size))
        return None if d is None or key not in d else d[key]

    # ---- latency
    lat_rows = []
    for s in sizes:
        fm, fp90, fp99 = (g(lat, FAST, s, k) for k in ("median", "p90", "p99"))
        om, op90, op99 = (g(lat, OURS, s, k) for k in ("median", "p90", "p99"))
        lat_rows.append(
            [
                size_label(s),
                us(fm), us(fp90), us(fp99),
                us(om), us(op90), us(op99),
                rx(ratio(fm, om)), rx(ratio(fp99, op99)),
            ]
        )
    lat_table = table(
        [
            "payload",
            "fastrtps median", "fastrtps p90", "fastrtps p99",
            "shm_rs median", "shm_rs p90", "shm_rs p99",
            "median fastrtps/ours", "p99 fastrtps/ours",
        ],
        lat_rows,
    )
    n_rows = []
    for s in sizes:
        n_rows.append(
            [
                size_label(s),
                f"{int(g(lat, FAST, s, 'n') or 0)} ({int(g(lat, FAST, s, 'lost') or 0)} lost)",
                f"{int(g(lat, OURS, s, 'n') or 0)} ({int(g(lat, OURS, s, 'lost') or 0)} lost)",
                f"{us(g(lat, FAST, s, 'min'))} / {us(g(lat, FAST, s, 'max'))}",
                f"{us(g(lat, OURS, s, 'min'))} / {us(g(lat, OURS, s, 'max'))}",
            ]
        )
    n_table = table(
        ["payload", "fastrtps round trips", "shm_rs round trips", "fastrtps min / max", "shm_rs min / max"],
        n_rows,
    )

    # ---- CPU per message, ping-pong
    cpu_rows = []
    for s in sizes:
        f = g(lat, FAST, s, "cpu_msg")
        o = g(lat, OURS, s, "cpu_msg")
        cpu_rows.append(
            [
                size_label(s),
                us(g(lat, FAST, s, "ping_cpu_rt")), us(g(lat, FAST, s, "pong_cpu_rt")), us(f),
                us(g(lat, OURS, s, "ping_cpu_rt")), us(g(lat, OURS, s, "pong_cpu_rt")), us(o),
                rx(ratio(f, o)),
            ]
        )
    cpu_table = table(
        [
            "payload",
            "fastrtps ping / RT", "fastrtps pong / RT", "fastrtps per msg",
            "shm_rs ping / RT", "shm_rs pong / RT", "shm_rs per msg",
            "fastrtps/ours",
        ],
        cpu_rows,
    )

    # ---- throughput
    tput_rows = []
    for s in tsizes:
        fr, orr = g(tput, FAST, s, "msgs_s"), g(tput, OURS, s, "msgs_s")
        tput_rows.append(
            [
                size_label(s),
                f"{fr:,.0f}" if fr else "n/a", f"{g(tput, FAST, s, 'MBps') or 0:,.1f}",
                f"{orr:,.0f}" if orr else "n/a", f"{g(tput, OURS, s, 'MBps') or 0:,.1f}",
                rx(ratio(orr, fr)),
                us(g(tput, FAST, s, "pub_cpu_msg")), us(g(tput, FAST, s, "sub_cpu_msg")),
                us(g(tput, OURS, s, "pub_cpu_msg")), us(g(tput, OURS, s, "sub_cpu_msg")),
                rx(ratio(g(tput, FAST, s, "cpu_msg"), g(tput, OURS, s, "cpu_msg"))),
            ]
        )
    tput_table = table(
        [
            "payload",
            "fastrtps msg/s", "fastrtps MB/s",
            "shm_rs msg/s", "shm_rs MB/s",
            "throughput ours/fastrtps",
            "fastrtps pub CPU/msg", "fastrtps sub CPU/msg",
            "shm_rs pub CPU/msg", "shm_rs sub CPU/msg",
            "CPU/msg fastrtps/ours",
        ],
        tput_rows,
    )

    # ---- targets
    main_targets = targets(lat, tput, loans)
    fifo = None
    if args.fifo_results and os.path.isfile(args.fifo_results):
        flat, ftput, fload = load_results(args.fifo_results)
        fifo = (flat, ftput, fload)
    if fifo:
        fifo_targets = targets(fifo[0], fifo[1])
        targets_table = table(
            ["target (issue 4)", "main run (SCHED_OTHER)", "verdict", "second run (SCHED_FIFO)", "verdict"],
            [a + b[1:] for a, b in zip(main_targets, fifo_targets)],
        )
    else:
        targets_table = table(["target (issue 4)", "measured", "verdict"], main_targets)

    # ---- criterion
    crit_rows = []
    for group, bench, ns, lo, hi, nbytes in crit:
        thr = f"{nbytes / ns:.2f} GB/s" if nbytes else ""
        crit_rows.append([group, bench, ns_label(ns), f"{ns_label(lo)} – {ns_label(hi)}", thr])
    crit_table = table(["message", "operation", "time per message", "95% CI", "throughput"], crit_rows)

    # ---- machine
    dirty = m.get("dirty", "0")
    mach_rows = [
        ["CPU", f"{m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs ({m.get('threads_per_core', '?')} thread per core)"
         + (f", {m['hypervisor']} guest" if m.get("hypervisor") else "")],
        ["memory", m.get("mem", "?")],
        ["OS / kernel", f"{m.get('os', '?')} / {m.get('kernel', '?')}"],
        ["Rust / C", f"{m.get('rustc', '?')} / {m.get('gcc', '?')}"],
        ["ROS 2", "Kilted PyPI wheels: rcl " + m.get("pkg_ros-rcl", "?") + ", rmw " + m.get("pkg_ros-rmw", "?")
         + ", rmw_fastrtps_cpp " + m.get("pkg_ros-rmw-fastrtps-cpp", "?") + ", Fast DDS (ros-fastdds) "
         + m.get("pkg_ros-fastdds", "?") + ", sensor_msgs " + m.get("pkg_ros-sensor-msgs", "?")
         + "; " + m.get("python", "?")],
        ["rmw_shm_rs", f"commit {m.get('commit', '?')}"
         + ("" if dirty == "0" else f" plus {dirty} uncommitted file(s) in rmw_shm_rs/src")
         + f", iceoryx2 {m.get('iceoryx2', '?')}, release profile"],
        ["load average (1/5/15 min)",
         "; ".join(f"{k[0].replace('rmw_', '')} {k[1]}: {v}" for k, v in load.items())
         + f"; end: {m.get('loadavg_end', '?')}"],
        ["pinning / scheduling", ("ping on CPU 0, pong on CPU 1 (taskset)" if m.get("pin") == "1" else "not pinned")
         + f"; nice {m.get('nice', '0')}, scheduling policy "
         + ("SCHED_FIFO 10" if m.get("sched") == "fifo" else "SCHED_OTHER") + " for both processes"],
    ]
    mach_table = table(["", ""], mach_rows)

    rounds = m.get("rounds", "?")
    doc = []
    doc.append("# Benchmarks\n")
    doc.append(
        f"Measured numbers from **one run** of `bench/run.sh` started {m.get('date', '?')} (UTC), on the "
        "machine below; nothing is averaged over runs, and other engineers' builds may have been "
        "running at the same time (see the load average). Re-run `bench/run.sh` to reproduce; it "
        "rewrites this file. Latencies are one-way (round trip / 2) in microseconds; CPU times are "
        "in microseconds of CPU (all threads of the process) per message or per round trip (RT).\n"
    )
    if m.get("quick") == "1":
        doc.append("> **Quick run (`BENCH_QUICK=1`)**: few round trips, short criterion runs; a smoke test, "
                   "not a measurement.\n")
    busy = []
    for v in list(load.values()):
        try:
            busy.append(float(v.split()[0]))
        except (ValueError, IndexError):
            pass
    if busy and max(busy) >= 1.0:
        doc.append(
            f"> **The machine was busy**: 1-minute load average {min(busy):.1f}–{max(busy):.1f} during the "
            "ping-pong runs (other work on the 2 CPUs). Every latency is higher than on a quiet machine, "
            "and rmw_fastrtps_cpp, whose data path hands each message through several threads, loses more "
            "from it than rmw_shm_rs: treat the ratios below as measured under load, not as the quiet-machine "
            "ratios (the analysis below gives the quiet-moment numbers seen during development).\n"
        )
    if args.note:
        doc.append(f"> {args.note}\n")
    doc.append("## Targets of issue 4\n")
    doc.append(
        "Ratios against rmw_fastrtps_cpp from the same run, as issue 4 states them (\"on these "
        "2-core machines\").\n"
    )
    doc.append(targets_table + "\n")
    doc.append("## Machine\n")
    doc.append(mach_table + "\n")
    doc.append("## Method\n")
    doc.append(
        f"""- **Program**: `bench/pingpong.c`, plain C on rcl (`rcl_init`, `rcl_node_init`,
  `rcl_publisher_init`, `rcl_subscription_init`, `rcl_wait_set_*` + `rcl_wait`, `rcl_take`,
  `rcl_publish`) with the rosidl C message `sensor_msgs/msg/Image`; the payload size is the length
  of its `data` field (the CDR message is about 60 bytes longer). Two processes: `ping` publishes
  on `/…/ping` and waits for the echo on `/…/pong`; `pong` takes each message into one reused C
  message and publishes that same message back. One wait set per process, reused, one subscription
  in it.
- **Same binary, two RMWs, one run**: first rmw_fastrtps_cpp (the wheels' librcl links it; no
  preload, stock configuration: no XML profile, default transports, so same-host traffic uses
  Fast DDS's shared-memory transport), then rmw_shm_rs (`LD_PRELOAD` of a snapshot of
  `target/release/librmw_shm_rs.so`, `RMW_IMPLEMENTATION=rmw_shm_rs`). Each RMW's pair of processes
  runs alone. Domain id {m.get('domain', '?')} (no other ROS traffic).
- **QoS** on both topics: reliable, keep last {m.get('depth', '10')}, volatile.
- **Latency**: per payload size, warm-up round trips (10% of N, at least 20), then N timed round trips
  (N = {rounds} for 64 B, 4 KiB, 64 KiB, 1 MiB, 4 MiB). One round trip = `rcl_publish` of ping's
  message up to `rcl_take` of the echo, `CLOCK_MONOTONIC`. One-way latency = round trip / 2;
  median, p90 and p99 are nearest-rank percentiles of the N values.
- **CPU per message (ping-pong)**: `CLOCK_PROCESS_CPUTIME_ID` (every thread of the process, so
  Fast DDS's receive and event threads count) of each process over the N timed round trips,
  divided by N: "ping / RT" and "pong / RT" (each process publishes one message and takes one per
  round trip). "per msg" = (ping + pong) / 2: the CPU both processes spend per one-way message
  (one publish plus one take plus one wake-up). pong reports its CPU time in the echo's
  `header.stamp`.
- **Throughput**: ping publishes as fast as pong keeps up, with a credit window: at most
  {m.get('depth', '10')} messages not yet taken by pong (pong acknowledges every
  {int(int(m.get('depth', '10')) / 2)} messages with a small message carrying its count), so the keep-last queue never
  overflows and every message is delivered. It runs {m.get('tput_seconds', '?')} s after a short warm-up;
  throughput = messages taken by pong / time from the first publish to the last acknowledgement;
  MB/s = messages/s × payload bytes / 10^6. CPU per message = each process's CPU time over the run
  / messages (publisher: publishing plus taking the acknowledgements; subscriber: taking plus
  sending them).
- **Codec**: `rmw_shm_rs/benches/codec.rs` (criterion, 2 s measurement per benchmark), the crate's
  public API on the `rosidl_typesupport_c` handles: `serialize` = exact size + serialization into a
  preallocated buffer (what `rmw_publish` does into the loaned sample); `deserialize` = into an
  initialized message that is reused (what `rmw_take` does into rcl's message); `deserialize_fresh`
  = init + deserialize + fini (allocations included). "time" is criterion's point estimate.
"""
    )
    doc.append("## Latency (one-way, µs)\n")
    doc.append(lat_table + "\n")
    doc.append(n_table + "\n")
    doc.append("## Throughput and CPU per message (throughput run)\n")
    doc.append(tput_table + "\n")
    doc.append("CPU columns in µs of CPU per message.\n")
    doc.append("## CPU per message (ping-pong, µs)\n")
    doc.append(cpu_table + "\n")
    if fifo:
        flt, ftt = compact_tables(fifo[0], fifo[1])
        doc.append("## Second run: both RMWs again with SCHED_FIFO\n")
        doc.append(
            "Right after the main runs, same binary and arguments, both processes of each RMW under "
            "`chrt -f 10` (real-time FIFO priority 10, every thread), still pinned. Other work on the "
            "machine then cannot delay a wake-up until the next scheduler tick; the gap between the two "
            "runs is what the load on the machine cost (see the analysis below). Load average: "
            + "; ".join(f"{k[0].replace('rmw_', '')} {k[1]}: {v}" for k, v in fifo[2].items()) + ".\n"
        )
        doc.append("Latency (one-way µs) and CPU per message (ping-pong, µs):\n")
        doc.append(flt + "\n")
        doc.append("Throughput (CPU per message in µs, publisher + subscriber):\n")
        doc.append(ftt + "\n")
    loan_tab = None
    doc.append("## Loaned messages (fixed-size type, rmw_shm_rs only)\n")
    if loans:
        loan_text, loan_tab = loan_section(loans, m)
        doc.append(loan_text)
    else:
        doc.append("Not run (BENCH_LOAN=0), or it failed: see target/bench/ping_loan.log.\n")
    remote = load_remote(args.results)
    remote_tab = None
    doc.append("## Other hosts (two network namespaces)\n")
    if remote[0]:
        remote_text, remote_tab = remote_section(remote, m)
        doc.append(remote_text)
    else:
        doc.append(f"Not measured in this run ({m.get('remote', 'bench/remote.sh was not run')}).\n")
    numpy_tab = None
    doc.append("## numpy helper (rclpy, 4 MiB sensor_msgs/Image)\n")
    if args.numpy and os.path.isfile(args.numpy):
        numpy_text, numpy_tab = numpy_section(args.numpy)
        doc.append(numpy_text)
    else:
        doc.append("Not run in this run (BENCH_NUMPY=0 or bench/numpy_bench.py failed).\n")
    doc.append("## CDR codec (criterion, rmw_shm_rs only)\n")
    doc.append((crit_table if crit_rows else "Not run (BENCH_CRITERION=0).") + "\n")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.isfile(notes):
        with open(notes) as f:
            doc.append(f.read().rstrip() + "\n")
    doc.append("## Raw results\n")
    with open(args.results) as f:
        doc.append("Main run:\n\n```\n" + f.read().rstrip() + "\n```\n")
    if fifo:
        with open(args.fifo_results) as f:
            doc.append("Second run (SCHED_FIFO):\n\n```\n" + f.read().rstrip() + "\n```\n")
    tables = [("Targets", targets_table), ("Latency, one-way µs", lat_table),
              ("Throughput and CPU/msg", tput_table), ("CPU per message, ping-pong", cpu_table)]
    if loan_tab:
        tables.append(("Loaned messages, rmw_shm_rs, one-way µs", loan_tab))
    if remote_tab:
        tables.append(("Other hosts (two network namespaces), one-way µs", remote_tab))
    if numpy_tab:
        tables.append(("numpy helper, MB/s", numpy_tab))
    tables.append(("Codec", crit_table))
    return "\n".join(doc), tables


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--criterion", default="")
    ap.add_argument("--doc", default="-")
    ap.add_argument("--fifo-results", default="")
    ap.add_argument("--numpy", default="", help="bench/numpy_bench.py --json output")
    ap.add_argument("--note", default="", help="an extra line for the top of the report")
    args = ap.parse_args()
    doc, tables = build(args)
    for title, tab in tables:
        print(f"\n{title}\n{tab}")
    if args.doc and args.doc != "-":
        with open(args.doc, "w") as f:
            f.write(doc)
        print(f"\nwrote {args.doc}")


if __name__ == "__main__":
    sys.exit(main())
