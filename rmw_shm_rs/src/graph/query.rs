//! Questions rcl asks about the graph, answered from a [`GraphView`] (a copy taken at the
//! start of the call, so each answer is consistent).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Endpoint, EndpointKind, NodeEntry, Participant};
use crate::error::{Error, Result};

/// Every participant's announcement (this context's first).
pub struct GraphView {
    /// The participants.
    pub participants: Vec<Participant>,
}

/// Names mapped to the set of their types, sorted (`rmw_names_and_types_t`).
pub type NamesAndTypes = BTreeMap<String, BTreeSet<String>>;

/// A node in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeName {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Enclave.
    pub enclave: String,
}

fn is_topic(kind: EndpointKind) -> bool {
    matches!(kind, EndpointKind::Publisher | EndpointKind::Subscription)
}

impl GraphView {
    fn nodes(&self) -> impl Iterator<Item = &NodeEntry> {
        self.participants.iter().flat_map(|p| p.nodes.iter())
    }

    fn endpoints(&self) -> impl Iterator<Item = (&NodeEntry, &Endpoint)> {
        self.nodes()
            .flat_map(|n| n.endpoints.iter().map(move |e| (n, e)))
    }

    /// Every node (`rmw_get_node_names_with_enclaves`).
    pub fn node_names(&self) -> Vec<NodeName> {
        self.nodes()
            .map(|n| NodeName {
                name: n.name.clone(),
                namespace: n.namespace.clone(),
                enclave: n.enclave.clone(),
            })
            .collect()
    }

    fn collect<'a>(
        endpoints: impl Iterator<Item = &'a Endpoint>,
        keep: impl Fn(EndpointKind) -> bool,
    ) -> NamesAndTypes {
        let mut out = NamesAndTypes::new();
        for e in endpoints.filter(|e| keep(e.kind)) {
            out.entry(e.name.clone())
                .or_default()
                .insert(e.type_name.clone());
        }
        out
    }

    /// Topics with publishers or subscriptions (`rmw_get_topic_names_and_types`).
    pub fn topic_names_and_types(&self) -> NamesAndTypes {
        Self::collect(self.endpoints().map(|(_, e)| e), is_topic)
    }

    /// Services with servers or clients (`rmw_get_service_names_and_types`).
    pub fn service_names_and_types(&self) -> NamesAndTypes {
        Self::collect(self.endpoints().map(|(_, e)| e), |k| !is_topic(k))
    }

    /// Names and types of one kind of endpoint of the node(s) called `name` in `namespace`
    /// (the `*_names_and_types_by_node` queries); fails with
    /// [`Error::NodeNameNonExistent`] when no such node exists.
    pub fn by_node(
        &self,
        name: &str,
        namespace: &str,
        kind: EndpointKind,
    ) -> Result<NamesAndTypes> {
        let nodes: Vec<&NodeEntry> = self
            .nodes()
            .filter(|n| n.name == name && n.namespace == namespace)
            .collect();
        if nodes.is_empty() {
            let sep = if namespace.ends_with('/') { "" } else { "/" };
            return Err(Error::NodeNameNonExistent(format!(
                "{namespace}{sep}{name}"
            )));
        }
        Ok(Self::collect(
            nodes.iter().flat_map(|n| n.endpoints.iter()),
            |k| k == kind,
        ))
    }

    /// How many endpoints of `kind` use `name` (`rmw_count_*`).
    pub fn count(&self, kind: EndpointKind, name: &str) -> usize {
        self.endpoints()
            .filter(|(_, e)| e.kind == kind && e.name == name)
            .count()
    }

    /// DDS participant prefixes (the first 12 bytes of a GID) of the delegates of every
    /// rmw_shm_rs process on this host, this one included, as each process announces it: DDS
    /// endpoints with these prefixes are reached by shared memory.
    pub fn remote_prefixes(&self) -> std::collections::HashSet<[u8; 12]> {
        self.participants
            .iter()
            .filter_map(|p| p.dds_prefix)
            .collect()
    }

    /// Endpoints of `kind` on topic `name` with their nodes (`rmw_get_*_info_by_topic`).
    pub fn endpoints_on(&self, kind: EndpointKind, name: &str) -> Vec<(NodeName, Endpoint)> {
        self.endpoints()
            .filter(|(_, e)| e.kind == kind && e.name == name)
            .map(|(n, e)| {
                (
                    NodeName {
                        name: n.name.clone(),
                        namespace: n.namespace.clone(),
                        enclave: n.enclave.clone(),
                    },
                    e.clone(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Qos;
    use super::*;

    fn ep(kind: EndpointKind, name: &str, ty: &str, g: u8) -> Endpoint {
        Endpoint {
            kind,
            name: name.into(),
            type_name: ty.into(),
            type_hash: String::new(),
            gid: [g; 16],
            qos: Qos::default(),
        }
    }

    fn view() -> GraphView {
        let node = |id, name: &str, endpoints| NodeEntry {
            id,
            name: name.into(),
            namespace: "/".into(),
            enclave: "/".into(),
            endpoints,
        };
        GraphView {
            participants: vec![
                Participant {
                    dds_prefix: None,
                    key: [1; 16],
                    version: 1,
                    pid: 1,
                    nodes: vec![node(
                        1,
                        "talker",
                        vec![ep(
                            EndpointKind::Publisher,
                            "/chatter",
                            "std_msgs/msg/String",
                            1,
                        )],
                    )],
                },
                Participant {
                    dds_prefix: None,
                    key: [2; 16],
                    version: 3,
                    pid: 2,
                    nodes: vec![node(
                        1,
                        "listener",
                        vec![
                            ep(
                                EndpointKind::Subscription,
                                "/chatter",
                                "std_msgs/msg/String",
                                2,
                            ),
                            ep(
                                EndpointKind::Service,
                                "/listener/get_parameters",
                                "rcl_interfaces/srv/GetParameters",
                                3,
                            ),
                        ],
                    )],
                },
            ],
        }
    }

    #[test]
    fn answers_graph_questions() {
        let v = view();
        assert_eq!(v.node_names().len(), 2);
        let topics = v.topic_names_and_types();
        assert_eq!(topics.len(), 1);
        assert!(topics["/chatter"].contains("std_msgs/msg/String"));
        assert_eq!(v.service_names_and_types().len(), 1);
        assert_eq!(v.count(EndpointKind::Publisher, "/chatter"), 1);
        assert_eq!(v.count(EndpointKind::Subscription, "/chatter"), 1);
        assert_eq!(v.count(EndpointKind::Publisher, "/other"), 0);
        let by = v
            .by_node("listener", "/", EndpointKind::Subscription)
            .unwrap();
        assert_eq!(by.keys().collect::<Vec<_>>(), vec!["/chatter"]);
        assert!(matches!(
            v.by_node("nobody", "/", EndpointKind::Publisher),
            Err(Error::NodeNameNonExistent(_))
        ));
        let info = v.endpoints_on(EndpointKind::Subscription, "/chatter");
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].0.name, "listener");
    }

    #[test]
    fn announcements_round_trip_and_garbage_is_rejected() {
        let p = view().participants.remove(1);
        let bytes = p.encode();
        assert_eq!(Participant::decode(&bytes), Some(p));
        assert_eq!(Participant::decode(&bytes[..bytes.len() / 2]), None);
        assert_eq!(Participant::decode(&[0xff; 64]), None);
        // Key, version 0, pid 0, then a claim of 2^32 - 1 nodes and nothing more: rejected
        // (and nothing is allocated for the claim: fuzz/fuzz_targets/graph_announce.rs).
        let mut claim = vec![7; 16];
        claim.extend([0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(Participant::decode(&claim), None);
    }
}
