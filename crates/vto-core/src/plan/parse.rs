//! Decoding `EXPLAIN (FORMAT JSON)` output into the plan model, within the
//! caps of [`super::MAX_PLAN_BYTES`], [`super::MAX_DEPTH`] and
//! [`super::MAX_NODES`].
//!
//! The caps are enforced before and during decoding, never after:
//! - the byte size first;
//! - then an iterative scan of the bracket nesting (strings skipped), so
//!   serde_json, whose own recursion limit (128) would refuse legitimate
//!   plans deeper than about 60 levels, can run without one and still never
//!   recurse deeper than [`MAX_JSON_DEPTH`] (the scan's result also tells
//!   [`super::analyze`] whether the decode needs a thread with a larger
//!   stack);
//! - while decoding, every element of `Plans`, `Workers` and `Sort Key` is
//!   charged to a per-call budget, so a plan made of millions of tiny objects
//!   fails before it allocates much.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{MAX_DEPTH, MAX_NODES, MAX_PLAN_BYTES};
use crate::Error;

/// JSON nesting the decoder accepts: two levels per plan level (`"Plans": [`
/// and the node's `{`), the statement array and object around the root, and
/// room for the nested objects of the deepest node (`Workers`, sort groups).
pub(crate) const MAX_JSON_DEPTH: usize = 2 * MAX_DEPTH + 16;

/// `Workers` entries and `Sort Key` items accepted in one plan, all nodes together.
pub(crate) const MAX_ITEMS: usize = 4 * MAX_NODES;

/// One statement of the EXPLAIN output: the plan and the statement-level facts.
#[derive(Debug, Deserialize)]
pub(crate) struct Statement {
    #[serde(rename = "Plan")]
    pub plan: Node,
    #[serde(rename = "Planning Time", default)]
    pub planning_time: Option<f64>,
    #[serde(rename = "Execution Time", default)]
    pub execution_time: Option<f64>,
    #[serde(rename = "Settings", default)]
    pub settings: Option<Settings>,
}

/// The `Settings` object of `EXPLAIN (SETTINGS)`: only what the rules need.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Settings {
    #[serde(default)]
    pub parallel_leader_participation: Option<String>,
}

/// One plan node, with the fields the rules read; all others are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct Node {
    #[serde(rename = "Node Type")]
    pub node_type: String,
    #[serde(rename = "Parent Relationship", default)]
    pub parent_relationship: Option<String>,
    #[serde(rename = "Parallel Aware", default)]
    pub parallel_aware: Option<bool>,
    #[serde(rename = "Join Type", default)]
    pub join_type: Option<String>,
    #[serde(rename = "Strategy", default)]
    pub strategy: Option<String>,
    #[serde(rename = "Relation Name", default)]
    pub relation: Option<String>,
    #[serde(rename = "Schema", default)]
    pub schema: Option<String>,
    #[serde(rename = "Alias", default)]
    pub alias: Option<String>,
    #[serde(rename = "Index Name", default)]
    pub index_name: Option<String>,
    #[serde(rename = "Startup Cost", default)]
    pub startup_cost: Option<f64>,
    #[serde(rename = "Total Cost", default)]
    pub total_cost: Option<f64>,
    #[serde(rename = "Plan Rows", default)]
    pub plan_rows: Option<f64>,
    #[serde(rename = "Actual Rows", default)]
    pub actual_rows: Option<f64>,
    #[serde(rename = "Actual Loops", default)]
    pub actual_loops: Option<f64>,
    #[serde(rename = "Workers Planned", default)]
    pub workers_planned: Option<f64>,
    #[serde(rename = "Filter", default)]
    pub filter: Option<String>,
    #[serde(rename = "Rows Removed by Filter", default)]
    pub rows_removed_by_filter: Option<f64>,
    #[serde(rename = "Join Filter", default)]
    pub join_filter: Option<String>,
    #[serde(rename = "Index Cond", default)]
    pub index_cond: Option<String>,
    #[serde(rename = "Recheck Cond", default)]
    pub recheck_cond: Option<String>,
    #[serde(rename = "Hash Cond", default)]
    pub hash_cond: Option<String>,
    #[serde(rename = "Merge Cond", default)]
    pub merge_cond: Option<String>,
    #[serde(rename = "Sort Key", default, deserialize_with = "bounded_opt_vec")]
    pub sort_key: Option<Vec<String>>,
    #[serde(rename = "Sort Method", default)]
    pub sort_method: Option<String>,
    #[serde(rename = "Sort Space Used", default)]
    pub sort_space_used: Option<f64>,
    #[serde(rename = "Sort Space Type", default)]
    pub sort_space_type: Option<String>,
    #[serde(rename = "Full-sort Groups", default)]
    pub full_sort_groups: Option<SortGroups>,
    #[serde(rename = "Pre-sorted Groups", default)]
    pub pre_sorted_groups: Option<SortGroups>,
    #[serde(rename = "Hash Batches", default)]
    pub hash_batches: Option<f64>,
    #[serde(rename = "Original Hash Batches", default)]
    pub original_hash_batches: Option<f64>,
    #[serde(rename = "Peak Memory Usage", default)]
    pub peak_memory_usage: Option<f64>,
    #[serde(rename = "HashAgg Batches", default)]
    pub hashagg_batches: Option<f64>,
    #[serde(rename = "Disk Usage", default)]
    pub disk_usage: Option<f64>,
    #[serde(rename = "Workers", default, deserialize_with = "bounded_opt_vec")]
    pub workers: Option<Vec<Worker>>,
    #[serde(rename = "Plans", default, deserialize_with = "bounded_nodes")]
    pub plans: Vec<Node>,
}

/// One entry of a node's `Workers` array (`EXPLAIN (ANALYZE, VERBOSE)`):
/// the per-worker sort facts.
#[derive(Debug, Deserialize)]
pub(crate) struct Worker {
    #[serde(rename = "Sort Method", default)]
    pub sort_method: Option<String>,
    #[serde(rename = "Sort Space Used", default)]
    pub sort_space_used: Option<f64>,
    #[serde(rename = "Sort Space Type", default)]
    pub sort_space_type: Option<String>,
}

/// `Full-sort Groups` / `Pre-sorted Groups` of an Incremental Sort.
#[derive(Debug, Deserialize)]
pub(crate) struct SortGroups {
    #[serde(
        rename = "Sort Methods Used",
        default,
        deserialize_with = "bounded_opt_vec"
    )]
    pub sort_methods_used: Option<Vec<String>>,
    #[serde(rename = "Sort Space Disk", default)]
    pub sort_space_disk: Option<SortSpace>,
}

/// `Sort Space Disk` of an Incremental Sort group.
#[derive(Debug, Deserialize)]
pub(crate) struct SortSpace {
    #[serde(rename = "Peak Sort Space Used", default)]
    pub peak: Option<f64>,
}

// ------------------------------------------------------------------ budget

#[derive(Clone, Copy)]
struct Budget {
    nodes: usize,
    items: usize,
}

thread_local! {
    /// What is left of the current decode's budget. Decoding is synchronous
    /// on one thread, and [`decode`] resets it before every decode.
    static BUDGET: Cell<Budget> = const { Cell::new(Budget { nodes: 0, items: 0 }) };
}

#[derive(Clone, Copy)]
enum Charge {
    Node,
    Item,
}

fn charge<E: de::Error>(what: Charge) -> Result<(), E> {
    BUDGET.with(|cell| {
        let mut budget = cell.get();
        let left = match what {
            Charge::Node => &mut budget.nodes,
            Charge::Item => &mut budget.items,
        };
        match left.checked_sub(1) {
            Some(rest) => {
                *left = rest;
                cell.set(budget);
                Ok(())
            }
            None => Err(E::custom(match what {
                Charge::Node => format!("the plan has more than {MAX_NODES} nodes"),
                Charge::Item => {
                    format!("the plan has more than {MAX_ITEMS} worker or sort-key entries")
                }
            })),
        }
    })
}

struct BoundedSeq<T> {
    what: Charge,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for BoundedSeq<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            charge::<A::Error>(self.what)?;
            out.push(item);
        }
        Ok(out)
    }
}

fn bounded_nodes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Node>, D::Error> {
    d.deserialize_seq(BoundedSeq {
        what: Charge::Node,
        marker: PhantomData,
    })
}

fn bounded_opt_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    d.deserialize_seq(BoundedSeq {
        what: Charge::Item,
        marker: PhantomData,
    })
    .map(Some)
}

/// The first statement of an array of statements; the rest are skipped
/// without being decoded into anything.
struct FirstStatement;

impl<'de> Visitor<'de> for FirstStatement {
    type Value = Option<Statement>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of EXPLAIN statements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Statement>, A::Error> {
        let first = seq.next_element::<Statement>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
}

// ------------------------------------------------------------------ decode

fn invalid(message: impl fmt::Display) -> Error {
    Error::InvalidInput {
        message: format!("EXPLAIN JSON: {message}"),
    }
}

/// The deepest nesting of arrays and objects in `bytes`, or an error as
/// soon as it passes `max`; without recursion. Strings are skipped (with
/// their escapes), so brackets inside them do not count. On a valid prefix
/// this is exactly the depth the decoder reaches, and the decoder stops at
/// the first invalid byte, so it never goes deeper.
pub(crate) fn nesting(bytes: &[u8], max: usize) -> Result<usize, Error> {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(invalid(format!(
                        "nested deeper than {max} arrays and objects (the plan depth cap is \
                         {MAX_DEPTH} levels)"
                    )));
                }
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(deepest)
}

/// Checks the size and nesting caps before any decoding; returns the
/// deepest nesting of arrays and objects, which tells how much stack
/// [`decode`] needs.
pub(crate) fn precheck(json: &str) -> Result<usize, Error> {
    if json.len() > MAX_PLAN_BYTES {
        return Err(invalid(format!(
            "{} bytes exceed the limit of {MAX_PLAN_BYTES} bytes",
            json.len()
        )));
    }
    nesting(json.as_bytes(), MAX_JSON_DEPTH)
}

/// Decodes EXPLAIN JSON that passed [`precheck`]: an array whose first
/// element is the statement (`[{"Plan": {...}, ...}]`, what PostgreSQL
/// prints) or that statement alone.
pub(crate) fn decode(json: &str) -> Result<Statement, Error> {
    BUDGET.with(|cell| {
        cell.set(Budget {
            nodes: MAX_NODES,
            items: MAX_ITEMS,
        })
    });

    let mut de = serde_json::Deserializer::from_str(json);
    // precheck bounds the recursion to MAX_JSON_DEPTH.
    de.disable_recursion_limit();
    let statement = match json.trim_start().as_bytes().first() {
        Some(b'[') => de
            .deserialize_seq(FirstStatement)
            .map_err(invalid)?
            .ok_or_else(|| invalid("an empty array (expected one statement with a \"Plan\")"))?,
        Some(b'{') => Statement::deserialize(&mut de).map_err(invalid)?,
        Some(_) => {
            return Err(invalid(
                "expected an array or an object with a \"Plan\" at the top level",
            ))
        }
        None => return Err(invalid("empty input")),
    };
    de.end().map_err(invalid)?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_skips_strings_and_escapes() {
        assert_eq!(nesting(br#"[[["\"[[[[" ]]]"#, 3).ok(), Some(3));
        assert!(nesting(b"[[[[", 3).is_err());
        assert_eq!(nesting(br#"{"a": "[[[[[\\"}"#, 1).ok(), Some(1));
        assert_eq!(nesting(br#"[[1], [[2]], 3]"#, 10).ok(), Some(3));
    }
}
