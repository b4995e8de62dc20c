//! `redundant_index`: exact duplicates, and btree indexes whose keys are a
//! left prefix of another btree's. Indexes are only compared within one
//! access method and with equal operator classes, directions and predicates,
//! so a GIN, GiST, BRIN, hash, trigram or expression index is never covered
//! by a btree on the plain column.

use super::{
    describe, render, table_stats, Context, Suggestion, SuggestionKind, View, LARGE_INDEX_BYTES,
};
use crate::detect::Priority;
use crate::schema::Table;
use crate::Dialect;

/// One redundant index: positions in the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub index: usize,
    pub covered_by: usize,
    /// An exact duplicate (else covered as a left prefix).
    pub duplicate: bool,
}

/// Same method, keys (with operator classes and directions), predicate and INCLUDE.
fn same(a: &View<'_>, b: &View<'_>) -> bool {
    a.index.method.eq_ignore_ascii_case(&b.index.method)
        && a.keys == b.keys
        && a.predicate == b.predicate
        && a.include == b.include
}

/// Whether `b` serves every lookup `a` serves: both btree, `a`'s keys a left
/// prefix of `b`'s, the same predicate, and `a`'s INCLUDE columns among
/// `b`'s keys or INCLUDE columns; not an exact duplicate.
fn covered(a: &View<'_>, b: &View<'_>) -> bool {
    a.index.is_btree()
        && b.index.is_btree()
        && a.keys.len() <= b.keys.len()
        && b.keys.get(..a.keys.len()) == Some(a.keys.as_slice())
        && a.predicate == b.predicate
        && a.include
            .iter()
            .all(|c| b.include.contains(c) || b.keys.iter().any(|k| !k.expression && &k.text == c))
        && !same(a, b)
}

/// Whether the index may be suggested for removal as covered by a wider one.
fn droppable(v: &View<'_>) -> bool {
    !v.synthetic && !v.index.enforces()
}

/// Every redundant index of one table, with the index that covers it.
pub(crate) fn find(views: &[View<'_>]) -> Vec<Found> {
    let n = views.len();
    let mut out = Vec::new();
    let mut duplicate = vec![false; n];
    let mut grouped = vec![false; n];
    for i in 0..n {
        let Some(first) = views.get(i) else { continue };
        if grouped.get(i).copied().unwrap_or(true) {
            continue;
        }
        let group: Vec<usize> = (i..n)
            .filter(|&j| j == i || views.get(j).is_some_and(|v| same(first, v)))
            .collect();
        for &j in &group {
            if let Some(g) = grouped.get_mut(j) {
                *g = true;
            }
        }
        if group.len() < 2 {
            continue;
        }
        // Keep the one that enforces the most; among equals, the first name.
        let rank = |j: usize| {
            views.get(j).map(|v| {
                (
                    !v.index.primary,
                    !v.index.constraint,
                    !v.index.unique,
                    v.index.name.clone(),
                )
            })
        };
        let Some(keeper) = group.iter().copied().min_by_key(|&j| rank(j)) else {
            continue;
        };
        let Some(kept) = views.get(keeper) else {
            continue;
        };
        for &j in group.iter().filter(|&&j| j != keeper) {
            let Some(v) = views.get(j) else { continue };
            let removable = !v.synthetic
                && !v.index.primary
                && !v.index.constraint
                // A unique index goes only when the kept one enforces uniqueness too.
                && (!v.index.unique || kept.index.unique || kept.index.primary);
            if removable {
                if let Some(d) = duplicate.get_mut(j) {
                    *d = true;
                }
                out.push(Found {
                    index: j,
                    covered_by: keeper,
                    duplicate: true,
                });
            }
        }
    }
    let is_duplicate = |j: usize| duplicate.get(j).copied().unwrap_or(true);
    let covers = |a: usize, b: usize| {
        a != b
            && !is_duplicate(b)
            && matches!((views.get(a), views.get(b)), (Some(x), Some(y)) if covered(x, y))
    };
    let prefix: Vec<bool> = (0..n)
        .map(|a| {
            !is_duplicate(a) && views.get(a).is_some_and(droppable) && (0..n).any(|b| covers(a, b))
        })
        .collect();
    for a in 0..n {
        if !prefix.get(a).copied().unwrap_or(false) {
            continue;
        }
        // Name an index that stays: one not itself redundant (by transitivity,
        // one always exists), the narrowest, then by name.
        let best = (0..n).filter(|&b| covers(a, b)).min_by_key(|&b| {
            views.get(b).map(|v| {
                (
                    prefix.get(b).copied().unwrap_or(true),
                    v.keys.len(),
                    v.include.len(),
                    v.index.name.clone(),
                )
            })
        });
        if let Some(b) = best {
            out.push(Found {
                index: a,
                covered_by: b,
                duplicate: false,
            });
        }
    }
    out
}

pub(crate) fn suggestion(
    ctx: &Context<'_>,
    table: &Table,
    view: &View<'_>,
    cover: &View<'_>,
    duplicate: bool,
) -> Suggestion {
    let index = &view.index;
    let size = index
        .size_bytes
        .map_or_else(String::new, |s| format!(" It takes {}.", render::bytes(s)));
    let reason = if duplicate {
        format!(
            "{} duplicates {}: same keys, method{}{}. Every write to {} maintains both.{size}",
            describe(index),
            describe(&cover.index),
            if view.predicate.is_some() {
                ", predicate"
            } else {
                ""
            },
            if view.include.is_empty() {
                ""
            } else {
                " and INCLUDE columns"
            },
            table_stats(table),
        )
    } else {
        let what = if view.keys.len() < cover.keys.len() {
            "whose keys start with the same keys"
        } else {
            "which has the same keys and INCLUDE columns besides"
        };
        format!(
            "{} is covered by {}, {what}, so it serves the same lookups and sorts. Every \
             write to {} maintains both.{size}",
            describe(index),
            describe(&cover.index),
            table_stats(table),
        )
    };
    let base = if duplicate {
        Priority::Medium
    } else {
        Priority::Low
    };
    let priority = if index.size_bytes.is_some_and(|s| s >= LARGE_INDEX_BYTES) {
        Priority::High
    } else {
        base
    };
    let loses = if duplicate {
        format!(
            "Nothing is lost: {} serves every query it serves.",
            cover.index.name
        )
    } else {
        format!(
            "Queries that used it switch to {}, whose entries are wider, so they read a \
             little more of the index; nothing else is lost.",
            cover.index.name
        )
    };
    let drop = match ctx.dialect {
        Dialect::Postgres => {
            " DROP INDEX CONCURRENTLY does not block queries but cannot run inside a transaction."
        }
        Dialect::Mysql => " InnoDB drops a secondary index in place, without copying the table.",
        Dialect::Sqlite => "",
    };
    Suggestion {
        kind: SuggestionKind::RedundantIndex,
        table: table.name.clone(),
        columns: index.keys.iter().map(|k| k.text().to_owned()).collect(),
        index_name: index.name.clone(),
        covered_by: Some(cover.index.name.clone()),
        via: None,
        references: None,
        on_delete: None,
        migration: render::remove_index_migration(ctx.dialect, ctx.version, &table.name, index),
        sql: render::drop_index_sql(ctx.dialect, &table.name, &index.name),
        reason,
        priority,
        size_bytes: index.size_bytes,
        trade_offs: format!("{loses}{drop}"),
        descending: Vec::new(),
        queries: Vec::new(),
        time_ms: None,
        droppable: Vec::new(),
        write_load: None,
    }
}
