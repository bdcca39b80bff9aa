//! The dependency graph of a stack (petgraph). Pure.
//!
//! Edges go from a dependency to the service that depends on it. Every walk
//! is iterative (Kahn's algorithm, BFS), so a 600-deep chain or 3,000
//! services cannot overflow the stack.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::spec::Stack;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// `path` is the whole cycle, first service repeated at the end.
    #[error("dependency cycle: {} (remove one of these depends_on)", .path.join(" → "))]
    Cycle { first: String, path: Vec<String> },
    #[error("service `{service}` depends on `{dependency}`, which is not defined")]
    Missing { service: String, dependency: String },
    #[error("service `{0}` depends on itself; remove it from its depends_on")]
    SelfDependency(String),
}

/// The graph and its start order, computed once.
#[derive(Debug, Clone)]
pub struct DepGraph {
    graph: DiGraph<String, ()>,
    index: HashMap<String, NodeIndex>,
    order: Vec<String>,
    /// Level of each node (0: no dependencies), by node index.
    level: Vec<usize>,
}

impl DepGraph {
    /// Build the graph; fails on a missing dependency, a self-dependency or
    /// a cycle.
    pub fn new(stack: &Stack) -> Result<DepGraph, GraphError> {
        let mut graph = DiGraph::with_capacity(stack.services.len(), stack.services.len());
        let mut index = HashMap::with_capacity(stack.services.len());
        // BTreeMap iteration: node indices follow name order, which makes
        // the tie-breaks below simple.
        for name in stack.services.keys() {
            index.insert(name.clone(), graph.add_node(name.clone()));
        }
        for (name, svc) in &stack.services {
            for dep in svc.depends_on.keys() {
                if dep == name {
                    return Err(GraphError::SelfDependency(name.clone()));
                }
                let Some(&from) = index.get(dep) else {
                    return Err(GraphError::Missing {
                        service: name.clone(),
                        dependency: dep.clone(),
                    });
                };
                graph.add_edge(from, index[name], ());
            }
        }

        // Kahn's algorithm with a min-heap on the name: deterministic order.
        let n = graph.node_count();
        let mut indeg: Vec<usize> = graph
            .node_indices()
            .map(|i| graph.neighbors_directed(i, Direction::Incoming).count())
            .collect();
        let mut level = vec![0usize; n];
        let mut heap: BinaryHeap<Reverse<(String, usize)>> = graph
            .node_indices()
            .filter(|i| indeg[i.index()] == 0)
            .map(|i| Reverse((graph[i].clone(), i.index())))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse((name, i))) = heap.pop() {
            order.push(name);
            let ni = NodeIndex::new(i);
            for d in graph.neighbors_directed(ni, Direction::Outgoing) {
                let di = d.index();
                level[di] = level[di].max(level[i] + 1);
                indeg[di] -= 1;
                if indeg[di] == 0 {
                    heap.push(Reverse((graph[d].clone(), di)));
                }
            }
        }
        if order.len() < n {
            let left: Vec<NodeIndex> = graph
                .node_indices()
                .filter(|i| indeg[i.index()] > 0)
                .collect();
            let path = find_cycle(&graph, &left);
            return Err(GraphError::Cycle {
                first: path.first().cloned().unwrap_or_default(),
                path,
            });
        }
        Ok(DepGraph {
            graph,
            index,
            order,
            level,
        })
    }

    /// Start order: dependencies first, ties broken by name.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// Start levels: every service in a level can start in parallel once
    /// the previous levels have; names sorted within a level.
    pub fn levels(&self) -> Vec<Vec<String>> {
        let max = self.level.iter().copied().max().map_or(0, |m| m + 1);
        let mut out = vec![Vec::new(); max];
        for name in &self.order {
            let i = self.index[name].index();
            out[self.level[i]].push(name.clone());
        }
        for l in &mut out {
            l.sort();
        }
        out
    }

    /// Stop order (reverse of start).
    pub fn stop_order(&self) -> Vec<String> {
        self.order.iter().rev().cloned().collect()
    }

    fn neighbors(&self, name: &str, dir: Direction) -> Vec<String> {
        let Some(&i) = self.index.get(name) else {
            return Vec::new();
        };
        let mut v: Vec<String> = self
            .graph
            .neighbors_directed(i, dir)
            .map(|d| self.graph[d].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Services that depend on `name` directly, sorted.
    pub fn dependents(&self, name: &str) -> Vec<String> {
        self.neighbors(name, Direction::Outgoing)
    }

    /// Services `name` depends on directly, sorted.
    pub fn dependencies(&self, name: &str) -> Vec<String> {
        self.neighbors(name, Direction::Incoming)
    }

    fn closure(&self, names: &[String], dir: Direction) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<NodeIndex> = VecDeque::new();
        for n in names {
            if let Some(&i) = self.index.get(n) {
                if seen.insert(n.clone()) {
                    queue.push_back(i);
                }
            }
        }
        while let Some(i) = queue.pop_front() {
            for d in self.graph.neighbors_directed(i, dir) {
                if seen.insert(self.graph[d].clone()) {
                    queue.push_back(d);
                }
            }
        }
        seen
    }

    /// `names` and everything they depend on, transitively, in start order
    /// (what `stack up SERVICE...` starts). Unknown names are left out.
    pub fn with_dependencies(&self, names: &[String]) -> Vec<String> {
        let set = self.closure(names, Direction::Incoming);
        self.order
            .iter()
            .filter(|n| set.contains(*n))
            .cloned()
            .collect()
    }

    /// `names` and everything that depends on them, transitively, in stop
    /// order (what must stop before them).
    pub fn with_dependents(&self, names: &[String]) -> Vec<String> {
        let set = self.closure(names, Direction::Outgoing);
        self.order
            .iter()
            .rev()
            .filter(|n| set.contains(*n))
            .cloned()
            .collect()
    }

    /// Whether the graph knows `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

/// One cycle among `left` (the nodes Kahn's algorithm could not order), as
/// "service → its dependency → … → service". Starts at the smallest name
/// that is on a cycle; BFS gives the shortest way back to it.
fn find_cycle(graph: &DiGraph<String, ()>, left: &[NodeIndex]) -> Vec<String> {
    // Walk "depends on" edges (Incoming) from a node; a node of `left` either
    // is on a cycle or depends (transitively) on one.
    let mut starts: Vec<NodeIndex> = left.to_vec();
    starts.sort_by(|a, b| graph[*a].cmp(&graph[*b]));
    for &start in &starts {
        let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut found = None;
        'bfs: while let Some(i) = queue.pop_front() {
            let mut deps: Vec<NodeIndex> =
                graph.neighbors_directed(i, Direction::Incoming).collect();
            deps.sort_by(|a, b| graph[*a].cmp(&graph[*b]));
            for d in deps {
                if d == start {
                    found = Some(i);
                    break 'bfs;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(d) {
                    e.insert(i);
                    queue.push_back(d);
                }
            }
        }
        if let Some(last) = found {
            let mut path = vec![graph[last].clone()];
            let mut cur = last;
            while cur != start {
                cur = prev[&cur];
                path.push(graph[cur].clone());
            }
            path.reverse();
            path.push(graph[start].clone());
            return path;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Condition, Dependency, NetworkMode, Rootfs, Service};
    use std::collections::BTreeMap;

    fn svc(name: &str, deps: &[&str]) -> Service {
        Service {
            name: name.into(),
            rootfs: Rootfs::Host(vec!["/bin/sh".into()]),
            entrypoint: None,
            command: None,
            environment: BTreeMap::new(),
            working_dir: None,
            user: None,
            hostname: None,
            depends_on: deps
                .iter()
                .map(|d| {
                    (
                        d.to_string(),
                        Dependency {
                            condition: Condition::ServiceStarted,
                            restart: false,
                            required: true,
                        },
                    )
                })
                .collect(),
            healthcheck: None,
            restart: Default::default(),
            limits: Default::default(),
            volumes: vec![],
            tmpfs: vec![],
            read_only: false,
            stop_signal: "SIGTERM".into(),
            stop_grace_period: crate::spec::units::Millis(10_000),
            init: true,
            cap_add: vec![],
            cap_drop: vec![],
            security: Default::default(),
            ulimits: BTreeMap::new(),
            network_mode: NetworkMode::None,
            ports: vec![],
            labels: BTreeMap::new(),
            profiles: vec![],
            develop: None,
            x_stack: Default::default(),
        }
    }

    fn stack(s: &[(&str, &[&str])]) -> Stack {
        Stack {
            name: "t".into(),
            file: "/t/stack.yaml".into(),
            dir: "/t".into(),
            services: s.iter().map(|(n, d)| (n.to_string(), svc(n, d))).collect(),
            volumes: BTreeMap::new(),
            inputs: Vec::new(),
        }
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn order_levels_stop_dependents() {
        let g = DepGraph::new(&stack(&[
            ("web", &["db", "cache"]),
            ("db", &[]),
            ("cache", &[]),
            ("worker", &["db"]),
            ("proxy", &["web"]),
        ]))
        .unwrap();
        assert_eq!(g.order(), strs(&["cache", "db", "web", "proxy", "worker"]));
        assert_eq!(
            g.levels(),
            vec![
                strs(&["cache", "db"]),
                strs(&["web", "worker"]),
                strs(&["proxy"])
            ]
        );
        assert_eq!(
            g.stop_order(),
            strs(&["worker", "proxy", "web", "db", "cache"])
        );
        assert_eq!(g.dependents("db"), strs(&["web", "worker"]));
        assert_eq!(g.dependencies("web"), strs(&["cache", "db"]));
        assert_eq!(g.dependents("nope"), Vec::<String>::new());
        assert_eq!(
            g.with_dependencies(&strs(&["proxy"])),
            strs(&["cache", "db", "web", "proxy"])
        );
        assert_eq!(
            g.with_dependents(&strs(&["db"])),
            strs(&["worker", "proxy", "web", "db"])
        );
    }

    #[test]
    fn ties_broken_by_name() {
        let g = DepGraph::new(&stack(&[("c", &[]), ("a", &[]), ("b", &[])])).unwrap();
        assert_eq!(g.order(), strs(&["a", "b", "c"]));
        assert_eq!(g.levels(), vec![strs(&["a", "b", "c"])]);
    }

    #[test]
    fn cycle_prints_whole_cycle() {
        let e = DepGraph::new(&stack(&[
            ("alpha", &["beta"]),
            ("beta", &["gamma"]),
            ("gamma", &["alpha"]),
            ("delta", &["alpha"]),
        ]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dependency cycle: alpha → beta → gamma → alpha (remove one of these depends_on)"
        );
    }

    #[test]
    fn two_cycle_and_dependent_of_cycle() {
        // `a` only depends on the cycle; the cycle printed is b ↔ c.
        let e = DepGraph::new(&stack(&[("a", &["b"]), ("b", &["c"]), ("c", &["b"])])).unwrap_err();
        assert_eq!(
            e,
            GraphError::Cycle {
                first: "b".into(),
                path: strs(&["b", "c", "b"])
            }
        );
    }

    #[test]
    fn missing_and_self() {
        let e = DepGraph::new(&stack(&[("web", &["db"])])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "service `web` depends on `db`, which is not defined"
        );
        let e = DepGraph::new(&stack(&[("web", &["web"])])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "service `web` depends on itself; remove it from its depends_on"
        );
    }

    #[test]
    fn deep_chain_and_wide() {
        let names: Vec<String> = (0..600).map(|i| format!("s{i:04}")).collect();
        let mut st = stack(&[]);
        for (i, n) in names.iter().enumerate() {
            let deps: Vec<&str> = if i > 0 {
                vec![names[i - 1].as_str()]
            } else {
                vec![]
            };
            st.services.insert(n.clone(), svc(n, &deps));
        }
        let g = DepGraph::new(&st).unwrap();
        assert_eq!(g.order(), names.as_slice());
        assert_eq!(g.levels().len(), 600);
        // Close the chain: a 600-long cycle is reported without overflow.
        let d = st.services["s0001"].depends_on["s0000"].clone();
        st.services
            .get_mut("s0000")
            .unwrap()
            .depends_on
            .insert("s0599".into(), d);
        match DepGraph::new(&st).unwrap_err() {
            GraphError::Cycle { path, .. } => assert_eq!(path.len(), 601),
            e => panic!("{e}"),
        }
    }
}
