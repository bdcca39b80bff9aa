//! The dependency graph of a stack (petgraph). Pure.
//!
//! Edges go from a dependency to the service that depends on it. Every walk
//! is iterative (Kahn's algorithm, BFS), so a 600-deep chain or 3,000
//! services cannot overflow the stack.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::spec::{Service, Stack};

/// Why a stack's `depends_on` cannot be ordered. The check itself lives
/// in `spec` (the loader runs it before a graph exists; spec must not use
/// graph), so both report the same text.
pub use crate::spec::DependsError as GraphError;

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
    /// a cycle (as the loader does, so a loaded `Stack` never fails).
    pub fn new(stack: &Stack) -> Result<DepGraph, GraphError> {
        crate::spec::check_dependencies(&stack.services)?;
        Ok(DepGraph::lenient(stack))
    }

    /// Build the graph of a stack that may not pass [`DepGraph::new`] (the
    /// planner takes any `Stack`, and judges a missing dependency itself):
    /// a dependency not in the stack and a self-dependency are left out,
    /// and the services on or behind a cycle come last, by name, instead
    /// of being looped on.
    pub fn lenient(stack: &Stack) -> DepGraph {
        DepGraph::of_services(&stack.services)
    }

    /// [`DepGraph::lenient`] of services without their stack (the records
    /// of a project being stopped without a supervisor).
    pub fn of_services(services: &BTreeMap<String, Service>) -> DepGraph {
        let mut graph = DiGraph::with_capacity(services.len(), services.len());
        let mut index = HashMap::with_capacity(services.len());
        // BTreeMap iteration: node indices follow name order, which makes
        // the tie-breaks below simple.
        for name in services.keys() {
            index.insert(name.clone(), graph.add_node(name.clone()));
        }
        for (name, svc) in services {
            for dep in svc.depends_on.keys().filter(|d| *d != name) {
                if let Some(&from) = index.get(dep) {
                    graph.add_edge(from, index[name], ());
                }
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
        // A cycle: cut, the rest in name order (node index order).
        order.extend(
            graph
                .node_indices()
                .filter(|i| indeg[i.index()] > 0)
                .map(|i| graph[i].clone()),
        );
        DepGraph {
            graph,
            index,
            order,
            level,
        }
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

    /// Stop order: dependents first (the reverse of the start order).
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

    /// The services a command on `targets` acts on (`up SERVICE...`): the
    /// targets and, unless `no_deps`, everything they depend on,
    /// transitively. No targets: every service. Names the graph does not
    /// know are left out.
    pub fn scope(&self, targets: &[String], no_deps: bool) -> BTreeSet<String> {
        if targets.is_empty() {
            return self.order.iter().cloned().collect();
        }
        if no_deps {
            return targets
                .iter()
                .filter(|t| self.contains(t))
                .cloned()
                .collect();
        }
        self.closure(targets, Direction::Incoming)
    }

    /// Whether the graph knows `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Condition, Dependency, Rootfs, Service};
    use std::collections::BTreeMap;

    fn svc(name: &str, deps: &[&str]) -> Service {
        let mut s = Service::new(name, Rootfs::Host(vec!["/bin/sh".into()]));
        for d in deps {
            s.depends_on.insert(
                d.to_string(),
                Dependency {
                    condition: Condition::ServiceStarted,
                    restart: false,
                    required: true,
                },
            );
        }
        s
    }

    fn stack(s: &[(&str, &[&str])]) -> Stack {
        Stack {
            name: "t".into(),
            file: "/t/stack.yaml".into(),
            overrides: Vec::new(),
            dir: "/t".into(),
            services: s.iter().map(|(n, d)| (n.to_string(), svc(n, d))).collect(),
            volumes: BTreeMap::new(),
            networks: BTreeMap::new(),
            inputs: Vec::new(),
            replicas: Default::default(),
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
    fn scope_takes_dependencies_unless_no_deps() {
        let g = DepGraph::new(&stack(&[
            ("web", &["db"]),
            ("db", &["vol"]),
            ("vol", &[]),
            ("other", &[]),
        ]))
        .unwrap();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(g.scope(&strs(&["web"]), false), set(&["db", "vol", "web"]));
        assert_eq!(g.scope(&strs(&["web", "nope"]), true), set(&["web"]));
        assert_eq!(g.scope(&[], true), set(&["db", "other", "vol", "web"]));
    }

    #[test]
    fn lenient_cuts_what_new_rejects() {
        // Missing and self dependencies are left out; a cycle comes last.
        let st = stack(&[
            ("a", &["b"]),
            ("b", &["a"]),
            ("c", &["c", "nope"]),
            ("z", &[]),
        ]);
        assert!(DepGraph::new(&st).is_err());
        let g = DepGraph::lenient(&st);
        assert_eq!(g.order(), strs(&["c", "z", "a", "b"]));
        assert_eq!(g.dependencies("c"), Vec::<String>::new());
        assert_eq!(g.stop_order(), strs(&["b", "a", "z", "c"]));
        assert_eq!(g.levels().concat().len(), 4);
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
