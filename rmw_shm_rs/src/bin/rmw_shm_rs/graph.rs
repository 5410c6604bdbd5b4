//! `graph` and `topics`: the domain's graph as every rmw_shm_rs process announces it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rmw_shm_rs::entity::qos::{self, check_compatible, for_matching, Compatibility, QosProfile};
use rmw_shm_rs::graph::model::{key_hex, Endpoint, EndpointKind, NodeEntry, Participant};
use rmw_shm_rs::graph::Graph;
use rmw_shm_rs::transport::shm::ShmContext;

use crate::{Opts, Progress};

/// The participants of `domain` other than the observer itself (which announces no nodes).
pub struct Observed {
    pub shm: ShmContext,
    pub graph: Graph,
    pub participants: Vec<Participant>,
}

/// Joins the domain's graph as a passive observer and collects the announcements until the
/// set of participants is stable (at least 0.6 s, at most `opts.wait`).
pub fn observe(opts: &Opts) -> Result<Observed, String> {
    let shm = ShmContext::new(opts.domain)
        .map_err(|e| format!("cannot open shared memory for domain {}: {e}", opts.domain))?;
    let graph = Graph::new(&shm).map_err(|e| format!("cannot join the graph: {e}"))?;
    let start = Instant::now();
    let mut progress = Progress::new();
    let mut last_change = Instant::now();
    let mut last: Vec<([u8; 16], u64)> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let mut now: Vec<([u8; 16], u64)> = graph
            .view()
            .participants
            .iter()
            .skip(1)
            .map(|p| (p.key, p.version))
            .collect();
        now.sort();
        if now != last {
            last = now;
            last_change = Instant::now();
        }
        let elapsed = start.elapsed();
        if elapsed >= opts.wait
            || (elapsed >= Duration::from_millis(600)
                && last_change.elapsed() >= Duration::from_millis(400))
        {
            break;
        }
        if elapsed >= Duration::from_millis(500) {
            progress.update(&format!(
                "collecting the graph of domain {}: {} participants, {:.1} s",
                opts.domain,
                last.len(),
                elapsed.as_secs_f64()
            ));
        }
    }
    progress.finish();
    let mut participants: Vec<Participant> =
        graph.view().participants.into_iter().skip(1).collect();
    participants.sort_by_key(|p| (p.pid, p.key));
    Ok(Observed {
        shm,
        graph,
        participants,
    })
}

fn policy(v: u32, names: &[(u32, &'static str)]) -> String {
    names
        .iter()
        .find(|(k, _)| *k == v)
        .map_or_else(|| format!("policy {v}"), |(_, n)| (*n).to_owned())
}

/// QoS in the words of `ros2 topic info -v`, short.
pub fn qos_text(q: &rmw_shm_rs::graph::model::Qos) -> String {
    let p = QosProfile::from(q);
    let history = if p.history == qos::KEEP_ALL {
        "keep_all".to_owned()
    } else {
        format!("keep_last {}", q.depth)
    };
    let reliability = policy(
        q.reliability,
        &[
            (qos::RELIABLE, "reliable"),
            (qos::BEST_EFFORT, "best_effort"),
            (0, "system_default"),
        ],
    );
    let durability = policy(
        q.durability,
        &[
            (qos::VOLATILE, "volatile"),
            (qos::TRANSIENT_LOCAL, "transient_local"),
            (0, "system_default"),
        ],
    );
    format!("{reliability}, {durability}, {history}")
}

fn node_fqn(n: &NodeEntry) -> String {
    if n.namespace.ends_with('/') {
        format!("{}{}", n.namespace, n.name)
    } else {
        format!("{}/{}", n.namespace, n.name)
    }
}

/// The path a matched pair uses, or why it has none.
pub fn pair_path(
    publisher: (&Participant, &Endpoint),
    subscription: (&Participant, &Endpoint),
) -> String {
    let (pp, pe) = publisher;
    let (sp, se) = subscription;
    let (pq, sq) = (QosProfile::from(&pe.qos), QosProfile::from(&se.qos));
    let (verdict, reason) = check_compatible(&for_matching(&pq), &for_matching(&sq));
    if verdict == Compatibility::Error {
        return format!("none (incompatible QoS: {reason})");
    }
    let keep_all_reliable = sq.history == qos::KEEP_ALL && sq.reliability == qos::RELIABLE;
    if pp.key == sp.key && !keep_all_reliable {
        // Unless that process restricts itself with RMW_SHM_RS_PATHS=shm.
        "intra-process".to_owned()
    } else {
        "shared memory".to_owned()
    }
}

/// Whether two topic endpoints carry the same type (same name; same hash when both are known).
fn same_type(a: &Endpoint, b: &Endpoint) -> bool {
    a.type_name == b.type_name
        && (a.type_hash.is_empty() || b.type_hash.is_empty() || a.type_hash == b.type_hash)
}

struct Located<'a> {
    participant: &'a Participant,
    node: &'a NodeEntry,
    endpoint: &'a Endpoint,
}

fn endpoints(ps: &[Participant]) -> Vec<Located<'_>> {
    ps.iter()
        .flat_map(|p| {
            p.nodes.iter().flat_map(move |n| {
                n.endpoints.iter().map(move |e| Located {
                    participant: p,
                    node: n,
                    endpoint: e,
                })
            })
        })
        .collect()
}

pub fn run_graph(opts: &Opts) -> Result<(), String> {
    let obs = observe(opts)?;
    let ps = &obs.participants;
    let nodes: usize = ps.iter().map(|p| p.nodes.len()).sum();
    let observers = ps.iter().filter(|p| p.nodes.is_empty()).count();
    println!(
        "domain {}: {} nodes in {} processes (+{} without nodes)",
        opts.domain,
        nodes,
        ps.len() - observers,
        observers
    );
    for p in ps.iter().filter(|p| !p.nodes.is_empty()) {
        println!();
        println!("process {} (participant {})", p.pid, &key_hex(&p.key)[..12]);
        let mut sorted: Vec<&NodeEntry> = p.nodes.iter().collect();
        sorted.sort_by_key(|n| node_fqn(n));
        for n in sorted {
            println!(
                "  node {}  (name {}, namespace {})",
                node_fqn(n),
                n.name,
                n.namespace
            );
            for (kind, title) in [
                (EndpointKind::Publisher, "publishers"),
                (EndpointKind::Subscription, "subscriptions"),
                (EndpointKind::Service, "services"),
                (EndpointKind::Client, "clients"),
            ] {
                let mut es: Vec<&Endpoint> =
                    n.endpoints.iter().filter(|e| e.kind == kind).collect();
                if es.is_empty() {
                    continue;
                }
                es.sort_by(|a, b| a.name.cmp(&b.name));
                println!("    {title}:");
                for e in es {
                    let topic =
                        matches!(kind, EndpointKind::Publisher | EndpointKind::Subscription);
                    if topic {
                        println!(
                            "      {}  [{}]  ({})",
                            e.name,
                            e.type_name,
                            qos_text(&e.qos)
                        );
                    } else {
                        println!("      {}  [{}]", e.name, e.type_name);
                    }
                }
            }
        }
    }
    let all = endpoints(ps);
    let mut pairs: Vec<(String, String, String, String)> = Vec::new();
    for p in all
        .iter()
        .filter(|l| l.endpoint.kind == EndpointKind::Publisher)
    {
        for s in all.iter().filter(|l| {
            l.endpoint.kind == EndpointKind::Subscription
                && l.endpoint.name == p.endpoint.name
                && same_type(l.endpoint, p.endpoint)
        }) {
            pairs.push((
                p.endpoint.name.clone(),
                format!("{} (pid {})", node_fqn(p.node), p.participant.pid),
                format!("{} (pid {})", node_fqn(s.node), s.participant.pid),
                pair_path((p.participant, p.endpoint), (s.participant, s.endpoint)),
            ));
        }
    }
    pairs.sort();
    println!();
    println!(
        "matched pairs (topic: publisher -> subscription: path): {}",
        pairs.len()
    );
    for (topic, publisher, subscription, path) in pairs {
        println!("  {topic}: {publisher} -> {subscription}: {path}");
    }
    Ok(())
}

/// Name -> key -> (publishers or servers, subscriptions or clients).
type Counts<'a, K> = BTreeMap<&'a str, BTreeMap<K, (usize, usize)>>;

pub fn run_topics(opts: &Opts) -> Result<(), String> {
    let obs = observe(opts)?;
    let all = endpoints(&obs.participants);
    // name -> type -> (publishers, subscriptions) / (servers, clients)
    let mut topics: Counts<(&str, &str)> = BTreeMap::new();
    let mut services: Counts<&str> = BTreeMap::new();
    for l in &all {
        let e = l.endpoint;
        match e.kind {
            EndpointKind::Publisher | EndpointKind::Subscription => {
                let c = topics
                    .entry(&e.name)
                    .or_default()
                    .entry((&e.type_name, &e.type_hash))
                    .or_default();
                if e.kind == EndpointKind::Publisher {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
            EndpointKind::Service | EndpointKind::Client => {
                let c = services
                    .entry(&e.name)
                    .or_default()
                    .entry(&e.type_name)
                    .or_default();
                if e.kind == EndpointKind::Service {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
        }
    }
    println!(
        "domain {}: {} topics, {} services",
        opts.domain,
        topics.len(),
        services.len()
    );
    println!();
    println!("topics (publishers/subscriptions, shared-memory service):");
    for (name, types) in &topics {
        for ((ty, hash), (p, s)) in types {
            let hash = if hash.is_empty() { None } else { Some(*hash) };
            println!(
                "  {name}  [{ty}]  {p} pub / {s} sub  {}",
                obs.shm.topic_service_name(name, ty, hash)
            );
        }
    }
    println!();
    println!("services (servers/clients):");
    for (name, types) in &services {
        for (ty, (srv, cli)) in types {
            println!("  {name}  [{ty}]  {srv} server / {cli} client");
        }
    }
    drop(obs.graph);
    Ok(())
}
