//! The rules: one walk over the plan tree, depth first, that collects the
//! indexes, the sequential scans and the findings (see [`super::Finding`]
//! for what each rule reports and [`super`] for how row counts are read).

use super::columns::{all_columns, own_columns};
use super::parse::{Node, Statement};
use super::{
    Direction, Finding, Options, PlanReport, RowsSource, SeqScan, MAX_DEPTH, MAX_ESTIMATE_MISSES,
    MAX_NODES,
};
use crate::{sql, Dialect, Error};

/// Relations named in a detail that lists the tables under a node.
const MAX_RELATIONS_NAMED: usize = 5;

/// Columns named in a detail.
const MAX_COLUMNS_NAMED: usize = 6;

/// A non-negative count from one of PostgreSQL's numbers, rounded: 0 for
/// negative numbers (and NaN), u64::MAX for what does not fit.
fn count(value: f64) -> u64 {
    if value > 0.0 {
        // `as` saturates: infinity and anything above u64::MAX become u64::MAX.
        value.round() as u64
    } else {
        0
    }
}

fn is_seq_scan(node: &Node) -> bool {
    matches!(node.node_type.as_str(), "Seq Scan" | "Parallel Seq Scan")
}

fn is_parallel(node: &Node) -> bool {
    node.parallel_aware == Some(true) || node.node_type.starts_with("Parallel ")
}

fn uses_index(node: &Node) -> bool {
    matches!(
        node.node_type.as_str(),
        "Index Scan" | "Index Only Scan" | "Bitmap Index Scan"
    )
}

fn is_join(node: &Node) -> bool {
    matches!(
        node.node_type.as_str(),
        "Nested Loop" | "Hash Join" | "Merge Join"
    )
}

/// The inner child of a join: `Parent Relationship` `Inner`, else the second.
fn inner_child(node: &Node) -> Option<&Node> {
    node.plans
        .iter()
        .find(|c| c.parent_relationship.as_deref() == Some("Inner"))
        .or_else(|| node.plans.get(1))
}

/// The outer child of a join: `Parent Relationship` `Outer`, else the first.
fn outer_child(node: &Node) -> Option<&Node> {
    node.plans
        .iter()
        .find(|c| c.parent_relationship.as_deref() == Some("Outer"))
        .or_else(|| node.plans.first())
}

/// The planner's parallel divisor (`get_parallel_divisor` in costsize.c):
/// the workers, plus the leader's share `1 - 0.3 * workers` when positive and
/// the leader participates.
fn parallel_divisor(workers: f64, leader_participates: bool) -> f64 {
    let workers = if workers.is_finite() {
        workers.max(0.0)
    } else {
        0.0
    };
    let mut divisor = workers;
    if leader_participates {
        let share = 1.0 - 0.3 * workers;
        if share > 0.0 {
            divisor += share;
        }
    }
    if divisor > 0.0 {
        divisor
    } else {
        1.0
    }
}

/// `a, b and c`, at most `max` then `and N more`.
fn list(items: &[String], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let more = items.len().saturating_sub(shown.len());
    match (shown.as_slice(), more) {
        ([], _) => String::new(),
        ([one], 0) => (*one).to_owned(),
        (many, 0) => match many.split_last() {
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        },
        (many, more) => format!("{} and {more} more", many.join(", ")),
    }
}

/// `a, b, c` for an index definition, at most [`MAX_COLUMNS_NAMED`] then `...`.
fn index_columns(columns: &[String]) -> String {
    let mut out = columns
        .iter()
        .take(MAX_COLUMNS_NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if columns.len() > MAX_COLUMNS_NAMED {
        out.push_str(", ...");
    }
    out
}

fn on_relation(relation: Option<&str>) -> String {
    relation.map_or_else(String::new, |r| format!(" on {r}"))
}

/// What the nodes above a node say about it.
#[derive(Clone, Copy)]
struct Above {
    /// The node's level; the root is 1.
    depth: usize,
    /// `Workers Planned` of the Gather or Gather Merge above, if any.
    workers_planned: Option<f64>,
    /// A node above may stop reading this one before it is exhausted.
    may_stop_early: bool,
}

/// A `row_estimate_miss` candidate; the detail is written for the worst only.
struct Miss<'a> {
    node: &'a Node,
    plan_rows: f64,
    actual_rows: f64,
    factor: f64,
    direction: Direction,
}

struct Walk<'a> {
    options: &'a Options,
    analyzed: bool,
    leader_participates: bool,
    nodes: usize,
    indexes_used: Vec<String>,
    seq_scans: Vec<SeqScan>,
    large_scans: Vec<Finding>,
    misses: Vec<Miss<'a>>,
    spills: Vec<Finding>,
    loops: Vec<Finding>,
}

pub(crate) fn run(statement: &Statement, options: &Options) -> Result<PlanReport, Error> {
    let root = &statement.plan;
    let leader_participates = statement
        .settings
        .as_ref()
        .and_then(|s| s.parallel_leader_participation.as_deref())
        .map(|v| v.trim().to_ascii_lowercase());
    let leader_participates =
        !matches!(leader_participates.as_deref(), Some("off" | "false" | "0"));
    let mut walk = Walk {
        options,
        analyzed: root.actual_loops.is_some(),
        leader_participates,
        nodes: 0,
        indexes_used: Vec::new(),
        seq_scans: Vec::new(),
        large_scans: Vec::new(),
        misses: Vec::new(),
        spills: Vec::new(),
        loops: Vec::new(),
    };
    walk.visit(
        root,
        Above {
            depth: 1,
            workers_planned: None,
            may_stop_early: false,
        },
    )?;

    // Worst first; the sort is stable, so equal factors stay in plan order.
    walk.misses.sort_by(|a, b| b.factor.total_cmp(&a.factor));
    let misses: Vec<Finding> = walk
        .misses
        .iter()
        .take(MAX_ESTIMATE_MISSES)
        .map(miss_finding)
        .collect();

    let analyzed = walk.analyzed;
    let mut findings = walk.large_scans;
    findings.extend(misses);
    findings.extend(walk.spills);
    findings.extend(walk.loops);
    Ok(PlanReport {
        total_cost: root.total_cost.unwrap_or(0.0),
        startup_cost: root.startup_cost.unwrap_or(0.0),
        plan_rows: count(root.plan_rows.unwrap_or(0.0)),
        analyzed,
        execution_ms: statement.execution_time,
        planning_ms: statement.planning_time,
        actual_rows: match (analyzed, root.actual_rows) {
            (true, Some(rows)) => Some(count(rows * root.actual_loops.unwrap_or(1.0))),
            _ => None,
        },
        indexes_used: walk.indexes_used,
        seq_scans: walk.seq_scans,
        nodes: walk.nodes as u64,
        findings,
    })
}

impl<'a> Walk<'a> {
    fn visit(&mut self, node: &'a Node, above: Above) -> Result<(), Error> {
        if above.depth > MAX_DEPTH {
            return Err(Error::InvalidInput {
                message: format!("EXPLAIN JSON: the plan nests deeper than {MAX_DEPTH} levels"),
            });
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error::InvalidInput {
                message: format!("EXPLAIN JSON: the plan has more than {MAX_NODES} nodes"),
            });
        }

        if uses_index(node) {
            if let Some(name) = &node.index_name {
                if !self.indexes_used.contains(name) {
                    self.indexes_used.push(name.clone());
                }
            }
        }
        if is_seq_scan(node) {
            self.seq_scan(node, above);
        }
        if self.analyzed {
            self.estimate(node, above);
            self.spill(node);
            if node.node_type == "Nested Loop" {
                self.nested_loop(node);
            }
        }

        let workers_planned = match node.node_type.as_str() {
            "Gather" | "Gather Merge" => node.workers_planned,
            _ => above.workers_planned,
        };
        // Nodes that read all of their input before returning a row end an
        // early stop from above.
        let reads_all = match node.node_type.as_str() {
            "Sort" | "Hash" => true,
            "Aggregate" => matches!(node.strategy.as_deref(), Some("Hashed" | "Plain")),
            _ => false,
        };
        let inner = inner_child(node);
        for child in &node.plans {
            let is_inner = inner.is_some_and(|i| std::ptr::eq(i, child));
            let stops_child = match node.node_type.as_str() {
                "Limit" | "Merge Join" => true,
                "Nested Loop" => {
                    is_inner && matches!(node.join_type.as_deref(), Some("Semi" | "Anti"))
                }
                _ => false,
            } || child.parent_relationship.as_deref() == Some("SubPlan");
            let may_stop_early = !reads_all && (above.may_stop_early || stops_child);
            self.visit(
                child,
                Above {
                    depth: above.depth + 1,
                    workers_planned,
                    may_stop_early,
                },
            )?;
        }
        Ok(())
    }

    fn table_rows(&self, node: &Node) -> Option<u64> {
        let relation = node.relation.as_deref()?;
        let qualified = node
            .schema
            .as_deref()
            .and_then(|schema| self.options.table_rows.get(&format!("{schema}.{relation}")));
        qualified
            .or_else(|| self.options.table_rows.get(relation))
            .copied()
    }

    fn seq_scan(&mut self, node: &Node, above: Above) {
        let parallel = is_parallel(node);
        let per_process = node.plan_rows.unwrap_or(0.0);
        let plan_rows = match (parallel, above.workers_planned) {
            (true, Some(workers)) => {
                per_process * parallel_divisor(workers, self.leader_participates)
            }
            _ => per_process,
        };
        let loops = node.actual_loops.filter(|_| self.analyzed);
        let actual_total = match (loops, node.actual_rows) {
            (Some(loops), Some(rows)) => Some(rows * loops),
            _ => None,
        };
        let removed_total = match (loops, node.rows_removed_by_filter) {
            (Some(loops), Some(removed)) => Some(removed * loops),
            _ => None,
        };
        let filter_columns = node
            .filter
            .as_deref()
            .map(|f| own_columns([f], node.relation.as_deref(), node.alias.as_deref()))
            .unwrap_or_default();

        if node.filter.is_some() {
            let executed = loops.filter(|l| *l > 0.0);
            let (rows, source) = match (self.table_rows(node), executed) {
                (Some(rows), _) => (rows, RowsSource::TableRows),
                (None, Some(loops)) => {
                    let per_loop = node.actual_rows.unwrap_or(0.0)
                        + node.rows_removed_by_filter.unwrap_or(0.0);
                    // A parallel scan's processes share the table; a plain
                    // scan reads all of it in every loop.
                    let read = if parallel { per_loop * loops } else { per_loop };
                    (count(read), RowsSource::Actual)
                }
                (None, None) => (count(plan_rows), RowsSource::Estimate),
            };
            if rows >= self.options.large_table_rows {
                let relation = node.relation.as_deref().unwrap_or("the table");
                let kept = match actual_total {
                    Some(total) if executed.is_some() => count(total).to_string(),
                    _ => format!("an estimated {}", count(plan_rows)),
                };
                let reads = match source {
                    RowsSource::Actual => format!("reads about {rows} rows to keep {kept}"),
                    RowsSource::TableRows => {
                        format!("reads all of its about {rows} rows to keep {kept}")
                    }
                    RowsSource::Estimate => format!("reads the whole table to keep {kept} rows"),
                };
                let index = if filter_columns.is_empty() {
                    format!("add an index on {relation} that serves its filter")
                } else {
                    format!(
                        "add an index on {relation} ({}) for its filter",
                        index_columns(&filter_columns)
                    )
                };
                let detail = format!("Seq Scan on {relation} {reads}: {index}.");
                self.large_scans.push(Finding::SeqScanOnLargeTable {
                    relation: node.relation.clone(),
                    alias: node.alias.clone(),
                    rows,
                    rows_source: source,
                    columns: filter_columns.clone(),
                    detail,
                });
            }
        }

        self.seq_scans.push(SeqScan {
            relation: node.relation.clone(),
            alias: node.alias.clone(),
            parallel,
            workers_planned: above.workers_planned.filter(|_| parallel).map(count),
            plan_rows: count(plan_rows),
            actual_rows: actual_total.map(count),
            loops: loops.map(count),
            filter: node
                .filter
                .as_deref()
                .map(|f| sql::normalize(f.as_bytes(), Dialect::Postgres)),
            filter_columns,
            rows_removed_by_filter: removed_total.map(count),
        });
    }

    fn estimate(&mut self, node: &'a Node, above: Above) {
        if matches!(
            node.node_type.as_str(),
            "BitmapAnd" | "BitmapOr" | "ModifyTable"
        ) {
            return;
        }
        let (Some(plan), Some(actual), Some(loops)) =
            (node.plan_rows, node.actual_rows, node.actual_loops)
        else {
            return;
        };
        if loops <= 0.0 {
            return;
        }
        // A node that passes its one child's rows on: the child is the miss.
        if let [child] = node.plans.as_slice() {
            if child.plan_rows == Some(plan)
                && child.actual_rows == Some(actual)
                && child.actual_loops == Some(loops)
            {
                return;
            }
        }
        let (plan, actual) = (plan.max(0.0), actual.max(0.0));
        if plan < 10.0 && actual < 10.0 {
            return;
        }
        let direction = if actual > plan {
            Direction::Under
        } else {
            Direction::Over
        };
        if direction == Direction::Over && above.may_stop_early {
            return;
        }
        let (high, low) = match direction {
            Direction::Under => (actual, plan),
            Direction::Over => (plan, actual),
        };
        let factor = high.max(1.0) / low.max(1.0);
        if factor >= self.options.misestimate_factor {
            self.misses.push(Miss {
                node,
                plan_rows: plan,
                actual_rows: actual,
                factor,
                direction,
            });
        }
    }

    fn spill(&mut self, node: &Node) {
        match node.node_type.as_str() {
            "Sort" | "Incremental Sort" => self.sort_spill(node),
            "Hash" => {
                let batches = count(node.hash_batches.unwrap_or(0.0));
                if batches <= 1 {
                    return;
                }
                let relation = node
                    .plans
                    .first()
                    .and_then(|c| c.relation.clone())
                    .filter(|_| node.plans.len() == 1);
                let original = node.original_hash_batches.map(count);
                let what = relation.as_deref().unwrap_or("its input");
                let peak = node
                    .peak_memory_usage
                    .map(|kb| format!(" (peak {} kB in memory)", count(kb)))
                    .unwrap_or_default();
                let detail = match original {
                    Some(planned) if planned < batches => format!(
                        "The Hash of {what} grew to {batches} batches on disk where the planner \
                         planned {planned}{peak}: run ANALYZE on {what} so the estimate is right, \
                         and raise work_mem or hash_mem_multiplier for this query so the hash \
                         fits in memory."
                    ),
                    _ => format!(
                        "The Hash of {what} was split into {batches} batches on disk{peak}: raise \
                         work_mem or hash_mem_multiplier for this query so it fits in one batch, \
                         or hash fewer rows and columns (filter that side first, select only the \
                         columns needed)."
                    ),
                };
                self.spills.push(Finding::HashSpill {
                    node: "Hash".to_owned(),
                    relation,
                    batches,
                    original_batches: original,
                    peak_memory_kb: node.peak_memory_usage.map(count),
                    disk_kb: None,
                    detail,
                });
            }
            "Aggregate" => {
                let batches = count(node.hashagg_batches.unwrap_or(0.0));
                let disk = node.disk_usage.map(count).filter(|kb| *kb > 0);
                if batches <= 1 && disk.is_none() {
                    return;
                }
                let written = disk
                    .map(|kb| format!(", writing {kb} kB"))
                    .unwrap_or_default();
                let detail = format!(
                    "The HashAggregate spilled to disk in {} batches{written}: raise work_mem or \
                     hash_mem_multiplier for this query, or group fewer rows (filter first), or \
                     let it group sorted input from an index on the grouping columns.",
                    batches.max(1)
                );
                self.spills.push(Finding::HashSpill {
                    node: "HashAggregate".to_owned(),
                    relation: None,
                    batches: batches.max(1),
                    original_batches: None,
                    peak_memory_kb: node.peak_memory_usage.map(count),
                    disk_kb: disk,
                    detail,
                });
            }
            _ => {}
        }
    }

    fn sort_spill(&mut self, node: &Node) {
        let mut spilled = false;
        let mut disk_kb = 0u64;
        let mut method: Option<String> = None;
        let mut note =
            |sort_method: Option<&String>, space_type: Option<&str>, used: Option<f64>| {
                let external = sort_method.is_some_and(|m| m.contains("external"));
                let on_disk = space_type.is_some_and(|t| t.eq_ignore_ascii_case("disk"));
                if external || on_disk {
                    spilled = true;
                    if on_disk {
                        disk_kb = disk_kb.saturating_add(count(used.unwrap_or(0.0)));
                    }
                    if method.is_none() {
                        method = sort_method.cloned();
                    }
                }
            };
        note(
            node.sort_method.as_ref(),
            node.sort_space_type.as_deref(),
            node.sort_space_used,
        );
        for worker in node.workers.iter().flatten() {
            note(
                worker.sort_method.as_ref(),
                worker.sort_space_type.as_deref(),
                worker.sort_space_used,
            );
        }
        // Incremental Sort reports its groups' methods and peak disk space.
        for groups in [&node.full_sort_groups, &node.pre_sorted_groups]
            .into_iter()
            .flatten()
        {
            let external = groups
                .sort_methods_used
                .iter()
                .flatten()
                .find(|m| m.contains("external"));
            let peak = groups.sort_space_disk.as_ref().and_then(|d| d.peak);
            if external.is_some() || peak.is_some_and(|kb| kb > 0.0) {
                spilled = true;
                disk_kb = disk_kb.max(count(peak.unwrap_or(0.0)));
                if method.is_none() {
                    method = external.cloned();
                }
            }
        }
        if !spilled {
            return;
        }
        let columns = all_columns(node.sort_key.iter().flatten().map(String::as_str));
        let how = method
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let index = if columns.is_empty() {
            "sort fewer or narrower rows".to_owned()
        } else {
            format!(
                "add an index on ({}) so the rows come out already sorted",
                index_columns(&columns)
            )
        };
        let detail = format!(
            "The {} wrote {disk_kb} kB to disk{how}: raise work_mem for this query (SET LOCAL \
             work_mem in its transaction) well above that, or {index}.",
            node.node_type
        );
        self.spills.push(Finding::SortSpill {
            node: node.node_type.clone(),
            method,
            disk_kb,
            columns,
            detail,
        });
    }

    fn nested_loop(&mut self, node: &Node) {
        let Some(mut inner) = inner_child(node) else {
            return;
        };
        // Look through caches: their child's loops are the runs that did work.
        for _ in 0..MAX_DEPTH {
            match (inner.node_type.as_str(), inner.plans.first()) {
                ("Memoize" | "Materialize", Some(child)) => inner = child,
                _ => break,
            }
        }
        let loops = count(inner.actual_loops.unwrap_or(0.0));
        if loops < self.options.many_loops {
            return;
        }
        let relation = inner.relation.clone();
        let conditions = [
            inner.index_cond.as_deref(),
            inner.recheck_cond.as_deref(),
            inner.filter.as_deref(),
            node.join_filter.as_deref(),
        ];
        let columns = own_columns(
            conditions.into_iter().flatten(),
            inner.relation.as_deref(),
            inner.alias.as_deref(),
        );
        let expected_outer = outer_child(node).and_then(|o| o.plan_rows).unwrap_or(0.0)
            * node.actual_loops.unwrap_or(1.0).max(1.0);
        let on = on_relation(relation.as_deref());
        let detail = if is_seq_scan(inner) {
            let rel = relation.as_deref().unwrap_or("the inner table");
            let index = if columns.is_empty() {
                format!("add an index on {rel} for the join condition")
            } else {
                format!(
                    "add an index on {rel} ({}) for the join condition",
                    index_columns(&columns)
                )
            };
            format!(
                "The Nested Loop runs a Seq Scan on {rel} {loops} times, once per outer row: \
                 {index}, or let the planner hash the join (ANALYZE the joined tables if it \
                 expected fewer outer rows)."
            )
        } else if loops as f64 >= self.options.misestimate_factor * expected_outer.max(1.0) {
            format!(
                "The Nested Loop runs its inner {}{on} {loops} times where the planner expected \
                 about {} outer rows: ANALYZE the joined tables (and create extended statistics \
                 on correlated columns) so the planner can choose a hash join on the join \
                 condition.",
                inner.node_type,
                count(expected_outer)
            )
        } else {
            format!(
                "The Nested Loop runs its inner {}{on} {loops} times, once per outer row: filter \
                 the outer side down first, or give the planner an equality join condition it \
                 can hash so one hash join replaces the per-row lookups.",
                inner.node_type
            )
        };
        self.loops.push(Finding::NestedLoopManyLoops {
            node: inner.node_type.clone(),
            relation,
            index: inner.index_name.clone(),
            loops,
            columns,
            detail,
        });
    }
}

/// The tables scanned under `node` (itself included), first seen first, without repeats.
fn relations_under(node: &Node) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stack: Vec<&Node> = vec![node];
    while let Some(n) = stack.pop() {
        if let Some(r) = &n.relation {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        stack.extend(n.plans.iter().rev());
    }
    out
}

fn miss_finding(miss: &Miss<'_>) -> Finding {
    let node = miss.node;
    let plan_rows = count(miss.plan_rows);
    let actual_rows = count(miss.actual_rows);
    let factor = (miss.factor * 10.0).round() / 10.0;
    let per_loop = if node.actual_loops.is_some_and(|l| l > 1.0) {
        " per loop"
    } else {
        ""
    };
    let how = match miss.direction {
        Direction::Under => format!("{factor}x more than estimated"),
        Direction::Over => format!("{factor}x fewer than estimated"),
    };
    let head = format!(
        "The planner estimated {plan_rows} rows for this {}{} but it returned \
         {actual_rows}{per_loop} ({how})",
        node.node_type,
        on_relation(node.relation.as_deref())
    );
    let detail = if let Some(relation) = node.relation.as_deref() {
        let conditions = [
            node.filter.as_deref(),
            node.index_cond.as_deref(),
            node.recheck_cond.as_deref(),
        ];
        let columns = own_columns(
            conditions.into_iter().flatten(),
            Some(relation),
            node.alias.as_deref(),
        );
        if columns.is_empty() {
            format!(
                "{head}: run ANALYZE {relation}, and if the estimate stays off raise its \
                 statistics target (ALTER TABLE ... ALTER COLUMN ... SET STATISTICS)."
            )
        } else {
            format!(
                "{head}: run ANALYZE {relation}, and if the estimate stays off raise the \
                 statistics target of {} (ALTER TABLE ... ALTER COLUMN ... SET STATISTICS), or \
                 create extended statistics on them (CREATE STATISTICS) if they are correlated.",
                list(&columns, MAX_COLUMNS_NAMED)
            )
        }
    } else {
        let relations = relations_under(node);
        let tables = if relations.is_empty() {
            "the tables below it".to_owned()
        } else {
            list(&relations, MAX_RELATIONS_NAMED)
        };
        if is_join(node) {
            let conditions = [
                node.hash_cond.as_deref(),
                node.merge_cond.as_deref(),
                node.join_filter.as_deref(),
            ];
            let columns = all_columns(conditions.into_iter().flatten());
            let among = if columns.is_empty() {
                String::new()
            } else {
                format!(" among {}", list(&columns, MAX_COLUMNS_NAMED))
            };
            format!(
                "{head}: run ANALYZE on {tables}, and if it stays off create extended statistics \
                 (CREATE STATISTICS ... (dependencies, ndistinct)) on the correlated columns{among}, \
                 since the planner assumes conditions on different columns are independent."
            )
        } else {
            format!(
                "{head}: run ANALYZE on {tables}; a miss here usually starts at a node below it, \
                 so fix the lowest one first."
            )
        }
    };
    Finding::RowEstimateMiss {
        node: node.node_type.clone(),
        relation: node.relation.clone(),
        plan_rows,
        actual_rows,
        factor,
        direction: miss.direction,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_divisor_matches_the_planner() {
        assert!((parallel_divisor(2.0, true) - 2.4).abs() < 1e-9);
        assert!((parallel_divisor(4.0, true) - 4.0).abs() < 1e-9);
        assert!((parallel_divisor(2.0, false) - 2.0).abs() < 1e-9);
        assert!((parallel_divisor(0.0, false) - 1.0).abs() < 1e-9);
        assert!((parallel_divisor(f64::NAN, true) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn lists() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(list(&items(&["a"]), 3), "a");
        assert_eq!(list(&items(&["a", "b", "c"]), 3), "a, b and c");
        assert_eq!(list(&items(&["a", "b", "c", "d"]), 2), "a, b and 2 more");
    }
}
