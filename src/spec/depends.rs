//! The loader for `depends_on`: a list of names, or a map with `condition`, `restart` and `required`;
//! and the check that the services' dependencies can be ordered at all.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node, Pos};

impl Cx<'_> {
    pub(super) fn depends_on(
        &mut self,
        n: &Node,
        path: &str,
        me: &str,
        out: &mut BTreeMap<String, Dependency>,
        pos_out: &mut BTreeMap<String, Pos>,
    ) {
        let default = Dependency {
            condition: Condition::ServiceStarted,
            restart: false,
            required: true,
        };
        match &n.kind {
            Kind::Null => {}
            Kind::Seq(items) => {
                for (p, it) in indexed(items, path) {
                    let Some(s) = self.string(it, &p) else {
                        continue;
                    };
                    if s == me {
                        self.err(
                            it.pos,
                            &p,
                            format!(
                                "service `{me}` depends on itself; remove it from its depends_on"
                            ),
                        );
                        continue;
                    }
                    if out.insert(s.clone(), default.clone()).is_some() {
                        self.err(it.pos, &p, format!("`{s}` is listed twice"));
                    }
                    pos_out.insert(s, it.pos);
                }
            }
            Kind::Map(m) => {
                // `x-` keys are extensions, never service names.
                for (k, v) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
                    let p = child(path, &k.name);
                    if k.name == me {
                        self.err(
                            k.pos,
                            &p,
                            format!(
                                "service `{me}` depends on itself; remove it from its depends_on"
                            ),
                        );
                        continue;
                    }
                    let mut d = default.clone();
                    if let Some(m) = match &v.kind {
                        Kind::Null => None,
                        _ => self.map(v, &p),
                    } {
                        for (kk, vv) in m {
                            let kp = child(&p, &kk.name);
                            match kk.name.as_str() {
                                "condition" => {
                                    if let Some(s) = self.string(vv, &kp) {
                                        d.condition = match s.as_str() {
                                            "service_started" => Condition::ServiceStarted,
                                            "service_healthy" => Condition::ServiceHealthy,
                                            "service_completed_successfully" => {
                                                Condition::ServiceCompletedSuccessfully
                                            }
                                            _ => {
                                                self.err(vv.pos, &kp, format!("invalid condition {s:?} (expected service_started, service_healthy or service_completed_successfully)"));
                                                continue;
                                            }
                                        }
                                    }
                                }
                                "restart" => d.restart = self.boolean(vv, &kp).unwrap_or(false),
                                "required" => d.required = self.boolean(vv, &kp).unwrap_or(true),
                                _ => self.unknown(kk, &p, "DependencyFile"),
                            }
                        }
                    }
                    out.insert(k.name.clone(), d);
                    pos_out.insert(k.name.clone(), k.pos);
                }
            }
            Kind::Scalar { .. } => self.err(
                n.pos,
                path,
                "expected a list of service names or a map, found a scalar",
            ),
        }
    }
}

/// Why the services' `depends_on` cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependsError {
    /// `path` is the whole cycle, first service repeated at the end.
    #[error("dependency cycle: {} (remove one of these depends_on)", .path.join(" → "))]
    Cycle { first: String, path: Vec<String> },
    #[error("service `{service}` depends on `{dependency}`, which is not defined")]
    Missing { service: String, dependency: String },
    #[error("service `{0}` depends on itself; remove it from its depends_on")]
    SelfDependency(String),
}

/// Check that `services` can be started in dependency order: every
/// dependency defined, none on itself, no cycle. The first problem in name
/// order is reported; a cycle is printed whole.
///
/// Here rather than in `graph` because the loader needs it and spec comes
/// before graph; `graph::DepGraph::new` runs this same check. Iterative
/// (Kahn's algorithm, BFS), so a 600-long chain cannot overflow the stack.
pub fn check_dependencies(services: &BTreeMap<String, Service>) -> Result<(), DependsError> {
    // Indices follow name order, so sorting indices sorts names.
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(names.len());
    for (name, svc) in services {
        let mut mine = Vec::with_capacity(svc.depends_on.len());
        for dep in svc.depends_on.keys() {
            if dep == name {
                return Err(DependsError::SelfDependency(name.clone()));
            }
            let Ok(j) = names.binary_search(&dep.as_str()) else {
                return Err(DependsError::Missing {
                    service: name.clone(),
                    dependency: dep.clone(),
                });
            };
            mine.push(j);
        }
        deps.push(mine);
    }
    let left = unordered(&deps);
    if left.is_empty() {
        return Ok(());
    }
    let path: Vec<String> = find_cycle(&deps, &left)
        .into_iter()
        .map(|i| names[i].to_string())
        .collect();
    Err(DependsError::Cycle {
        first: path.first().cloned().unwrap_or_default(),
        path,
    })
}

/// The services Kahn's algorithm cannot order (on a cycle, or depending on
/// one), in index order.
fn unordered(deps: &[Vec<usize>]) -> Vec<usize> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, mine) in deps.iter().enumerate() {
        for &j in mine {
            dependents[j].push(i);
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = ready.pop() {
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    (0..deps.len()).filter(|&i| waiting[i] > 0).collect()
}

/// One cycle among `left`, as "service → its dependency → … → service".
/// Starts at the smallest name that is on a cycle; BFS over dependencies
/// (in name order) gives the shortest way back to it.
fn find_cycle(deps: &[Vec<usize>], left: &[usize]) -> Vec<usize> {
    for &start in left {
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut found = None;
        'bfs: while let Some(i) = queue.pop_front() {
            for &d in &deps[i] {
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
            let mut path = vec![last];
            let mut cur = last;
            while cur != start {
                cur = prev[&cur];
                path.push(cur);
            }
            path.reverse();
            path.push(start);
            return path;
        }
    }
    Vec::new()
}
