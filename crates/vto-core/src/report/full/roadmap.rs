//! The roadmap: every recommendation of the three sections exactly once, in
//! the order to do them.
//!
//! A recommendation comes after those in its `depends_on` (an index before
//! the query rewrite that needs it). Among those whose prerequisites are
//! done, the most urgent goes first (priority, then effort: minutes first,
//! then section: optimization, infrastructure, governance, then the id's
//! number). A prerequisite is as urgent as the most urgent recommendation
//! waiting for it, so a medium index moves up with the critical query that
//! needs it. A dependency cycle (which the sections never produce) is
//! broken at its most urgent member.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;

use super::{Effort, Priority, Recommendation};

/// The report section a recommendation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// `R<n>`: the app's queries, indexes and caching.
    Optimization,
    /// `I<n>`: connections, capacity, queues, database settings.
    Infrastructure,
    /// `G<n>`: retention, classification, erasure.
    Governance,
}

/// One step of the roadmap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoadmapStep {
    /// 1, 2, ...
    pub step: u64,
    /// The recommendation's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its section.
    pub section: Section,
    /// Its own priority.
    pub priority: Priority,
    /// Its effort.
    pub effort: Effort,
    /// The metric to watch after it.
    pub metric: String,
    /// The ids to do first (its `depends_on`).
    pub after: Vec<String>,
}

struct Node<'a> {
    section: Section,
    rec: &'a Recommendation,
    /// Positions of the prerequisites that are in the roadmap.
    deps: Vec<usize>,
    /// Its priority raised to that of anything waiting for it.
    urgency: Priority,
}

/// Orders every recommendation of `sections`.
pub(super) fn plan(sections: &[(Section, &Vec<Recommendation>)]) -> Vec<RoadmapStep> {
    let mut nodes = nodes(sections);
    propagate_urgency(&mut nodes);
    let mut done = vec![false; nodes.len()];
    let mut out = Vec::with_capacity(nodes.len());
    for step in 1..=nodes.len() {
        let ready = |i: usize| {
            nodes
                .get(i)
                .is_some_and(|n| n.deps.iter().all(|d| done.get(*d).copied().unwrap_or(true)))
        };
        let open: Vec<usize> = (0..nodes.len())
            .filter(|i| !done.get(*i).copied().unwrap_or(true))
            .collect();
        let next = open
            .iter()
            .copied()
            .filter(|i| ready(*i))
            .min_by(|a, b| compare(&nodes, *a, *b))
            // Only a cycle leaves nothing ready: break it at its most urgent member.
            .or_else(|| open.iter().copied().min_by(|a, b| compare(&nodes, *a, *b)));
        let (Some(i), Some(node)) = (next, next.and_then(|i| nodes.get(i))) else {
            break;
        };
        if let Some(slot) = done.get_mut(i) {
            *slot = true;
        }
        out.push(RoadmapStep {
            step: step as u64,
            id: node.rec.id.clone(),
            title: node.rec.title.clone(),
            section: node.section,
            priority: node.rec.priority,
            effort: node.rec.effort,
            metric: node.rec.metric.clone(),
            after: node.rec.depends_on.clone(),
        });
    }
    out
}

fn nodes<'a>(sections: &[(Section, &'a Vec<Recommendation>)]) -> Vec<Node<'a>> {
    let all: Vec<(Section, &Recommendation)> = sections
        .iter()
        .flat_map(|(section, recs)| recs.iter().map(move |r| (*section, r)))
        .collect();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (i, (_, r)) in all.iter().enumerate() {
        position.entry(r.id.as_str()).or_insert(i);
    }
    all.iter()
        .enumerate()
        .map(|(i, (section, rec))| Node {
            section: *section,
            rec,
            deps: rec
                .depends_on
                .iter()
                .filter_map(|id| position.get(id.as_str()).copied())
                .filter(|d| *d != i)
                .collect(),
            urgency: rec.priority,
        })
        .collect()
}

/// Each prerequisite takes the urgency of the most urgent recommendation
/// that (transitively) waits for it.
fn propagate_urgency(nodes: &mut [Node<'_>]) {
    // Each pass moves urgency one edge down a chain: at most len passes.
    for _ in 0..nodes.len() {
        let mut changed = false;
        for i in 0..nodes.len() {
            let Some((urgency, deps)) = nodes.get(i).map(|n| (n.urgency, n.deps.clone())) else {
                continue;
            };
            for d in deps {
                if let Some(dep) = nodes.get_mut(d) {
                    if urgency < dep.urgency {
                        dep.urgency = urgency;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
}

fn compare(nodes: &[Node<'_>], a: usize, b: usize) -> Ordering {
    match (nodes.get(a), nodes.get(b)) {
        (Some(a), Some(b)) => key(a).cmp(&key(b)),
        _ => Ordering::Equal,
    }
}

/// (urgency, effort, section, the id's number, the id).
fn key<'a>(n: &Node<'a>) -> (Priority, Effort, Section, u64, &'a str) {
    let id = n.rec.id.as_str();
    let number = id
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse::<u64>()
        .unwrap_or(u64::MAX);
    (n.urgency, n.rec.effort, n.section, number, id)
}
