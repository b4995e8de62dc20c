//! Policy checks (`invalid_policy`, `keep_without_legal_basis`,
//! `unindexed_policy_column`, `partition_candidate`, `cleanup_order`) and
//! the cleanup plan.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{
    duration, duration_words, lower, size_priority, type_class, Action, Ctx, Dsl, Finding,
    FindingKind, PlanStep, Policy, TypeClass,
};
use crate::detect::Priority;
use crate::index::{normalize_text, render, size, table_stats, views, View};
use crate::schema::Table;
use crate::sql::shape::PredicateOp;
use crate::sql::token::{TokenKind, Tokenizer};
use crate::sql::{analyze_uncached, Limits};
use crate::Dialect;

/// Runs the policy checks into `out` and returns the plan.
pub(crate) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) -> Vec<PlanStep> {
    let mut invalid = vec![false; ctx.input.policies.len()];
    for (i, policy) in ctx.input.policies.iter().enumerate() {
        let before = out.len();
        check_one(ctx, policy, out);
        let flagged = out
            .get(before..)
            .unwrap_or_default()
            .iter()
            .any(|f| f.kind == FindingKind::InvalidPolicy);
        if let Some(slot) = invalid.get_mut(i) {
            *slot = flagged;
        }
    }
    plan(ctx, &mut invalid, out)
}

fn finding(
    kind: FindingKind,
    policy: &Policy,
    column: Option<&str>,
    suggestion: String,
    reason: String,
    priority: Priority,
) -> Finding {
    Finding {
        kind,
        table: policy.table.clone(),
        column: column.map(str::to_owned),
        path: None,
        category: None,
        suggestion,
        reason,
        priority,
    }
}

fn invalid(policy: &Policy, column: Option<&str>, suggestion: String, reason: String) -> Finding {
    finding(
        FindingKind::InvalidPolicy,
        policy,
        column,
        suggestion,
        reason,
        Priority::High,
    )
}

/// `delete policy (keep 90 days)` for a reason.
fn describe(policy: &Policy) -> String {
    match policy.keep_seconds {
        Some(keep) if policy.action != Action::Keep => format!(
            "{} policy on {} (after {})",
            policy.action.as_str(),
            policy.table,
            duration_words(keep)
        ),
        _ => format!("{} policy on {}", policy.action.as_str(), policy.table),
    }
}

fn check_one(ctx: &Ctx<'_>, policy: &Policy, out: &mut Vec<Finding>) {
    let Some(table) = ctx.position(&policy.table).and_then(|i| ctx.table(i)) else {
        out.push(invalid(
            policy,
            None,
            format!(
                "Fix the table name of the policy (table {}), or remove the policy",
                render::ruby_symbol(&policy.table)
            ),
            format!(
                "The {} names a table that is not in the schema: it cannot run.",
                describe(policy)
            ),
        ));
        return;
    };
    let known_columns = !table.columns.is_empty();
    let missing = |column: &str| known_columns && table.column(column).is_none();

    if policy.action == Action::Keep {
        if policy.legal_basis.is_none() {
            out.push(finding(
                FindingKind::KeepWithoutLegalBasis,
                policy,
                None,
                Dsl {
                    table: &policy.table,
                    keep: None,
                    timestamp_column: None,
                    condition: None,
                    action: Action::Keep,
                    columns: &[],
                    legal_basis: Some(
                        "<legal obligation or legitimate interest, and for how long>",
                    ),
                }
                .line(),
                format!(
                    "{} keeps its rows on purpose but says not why. GDPR's storage limitation \
                     (Art. 5(1)(e)) allows keeping personal data only as long as a purpose \
                     needs it: record the legal basis (a legal obligation such as accounting \
                     records, a contract, a legitimate interest) so an audit or a data subject \
                     request can be answered. Without one the table is not covered for erasure.",
                    table_stats(table)
                ),
                Priority::Medium,
            ));
        }
        return;
    }

    if policy.batch_size == Some(0) {
        out.push(invalid(
            policy,
            None,
            format!(
                "batch_size: {} (or leave it out for the default)",
                super::DEFAULT_BATCH_SIZE
            ),
            format!(
                "The {} has batch_size 0: a batch would never take a row.",
                describe(policy)
            ),
        ));
    }

    if policy.by_age() && missing(&policy.timestamp_column) {
        let candidates: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| c.name.ends_with("_at") && type_class(&c.sql_type) == TypeClass::Timestamp)
            .map(|c| c.name.as_str())
            .collect();
        let hint = if candidates.is_empty() {
            "the table has no timestamp column ending in _at".to_owned()
        } else {
            format!("its timestamp columns are {}", candidates.join(", "))
        };
        out.push(invalid(
            policy,
            Some(&policy.timestamp_column),
            match candidates.first() {
                Some(first) => format!("timestamp_column: {}", render::ruby_symbol(first)),
                None => "Add a timestamp column, or choose another column that dates the rows"
                    .to_owned(),
            },
            format!(
                "The {} dates rows by {}, which is not a column of {}; {hint}.",
                describe(policy),
                policy.timestamp_column,
                policy.table
            ),
        ));
    }

    if policy.action == Action::Anonymize {
        anonymize_columns(policy, table, known_columns, out);
    }
    if policy.action == Action::Archive {
        archive_table(ctx, policy, table, out);
    }

    // `None`: no condition; `Some(None)`: a condition that is reported invalid.
    let condition = policy
        .condition
        .as_deref()
        .map(|text| parse_condition(ctx, policy, table, text, out));

    if policy.by_age() && !missing(&policy.timestamp_column) {
        match &condition {
            None => unindexed(ctx, policy, table, None, out),
            Some(Some(parsed)) => unindexed(ctx, policy, table, Some(parsed), out),
            // Which columns it filters is unknown: the index check would guess.
            Some(None) => {}
        }
        partition(ctx, policy, table, out);
    }
    if policy.action.removes_rows() && policy.keep_seconds.is_some() {
        cleanup_order(ctx, policy, table, out);
    }
}

/// Why a column cannot hold the hash that replaces its values: not text, or
/// text shorter than the hash.
fn unhashable(column: &crate::schema::Column) -> Option<String> {
    let lower = column.sql_type.to_ascii_lowercase();
    let textual = matches!(super::type_class(&column.sql_type), super::TypeClass::Text)
        && !["json", "jsonb", "enum", "hstore"]
            .iter()
            .any(|t| lower.starts_with(t));
    if !textual {
        return Some(format!("of type {}", column.sql_type));
    }
    let limit = lower
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(n, _)| n.trim().parse::<u64>().ok());
    match limit {
        Some(n) if n < HASH_LENGTH => Some(format!("{} (shorter than the hash)", column.sql_type)),
        _ => None,
    }
}

/// `vto:` and the 64 hex digits of a SHA-256.
const HASH_LENGTH: u64 = 68;

fn anonymize_columns(policy: &Policy, table: &Table, known: bool, out: &mut Vec<Finding>) {
    if policy.columns.is_empty() {
        out.push(invalid(
            policy,
            None,
            format!(
                "columns: [...] naming the columns to clear, e.g. table {}, action: :anonymize, columns: [:notes]",
                render::ruby_symbol(&policy.table)
            ),
            format!(
                "The {} names no columns: there is nothing to anonymize.",
                describe(policy)
            ),
        ));
    }
    for name in policy
        .hashed_columns
        .iter()
        .filter(|h| !policy.columns.contains(h))
    {
        out.push(invalid(
            policy,
            Some(name),
            format!("Add {name} to columns: or remove it from hashed_columns"),
            format!(
                "The {} hashes {name}, which is not among the columns it anonymizes.",
                describe(policy)
            ),
        ));
    }
    for name in &policy.columns {
        if table.primary_key.iter().any(|k| k == name) {
            out.push(invalid(
                policy,
                Some(name),
                format!("Remove {name} from the anonymized columns"),
                format!(
                    "The {} clears {name}, part of the primary key: rows would lose their \
                     identity and the update fails.",
                    describe(policy)
                ),
            ));
            continue;
        }
        match table.column(name) {
            None if known => out.push(invalid(
                policy,
                Some(name),
                format!("Fix or remove {name} in columns:"),
                format!(
                    "The {} clears {name}, which is not a column of {}.",
                    describe(policy),
                    policy.table
                ),
            )),
            Some(column) if policy.hashed_columns.contains(name) => {
                if let Some(reason) = unhashable(column) {
                    out.push(invalid(
                        policy,
                        Some(name),
                        format!("columns: {{ {name}: :null }}"),
                        format!(
                            "The {} replaces {name} by a hash (`vto:` and 64 hex digits, 68 \
                             characters), but {name} is {reason}.",
                            describe(policy)
                        ),
                    ));
                }
            }
            Some(column) if !column.null && column.default.is_none() => out.push(invalid(
                policy,
                Some(name),
                format!(
                    "change_column_null {}, {}, true",
                    render::ruby_symbol(&policy.table),
                    render::ruby_symbol(name),
                ),
                format!(
                    "The {} clears {name}, which is NOT NULL without a default: anonymizing \
                     sets a column to NULL (or to its default), so every update would fail. \
                     Make it nullable, give it a default that carries no personal data, or \
                     anonymize it with a hash or placeholder strategy in the application.",
                    describe(policy)
                ),
            )),
            _ => {}
        }
    }
}

fn archive_table(ctx: &Ctx<'_>, policy: &Policy, table: &Table, out: &mut Vec<Finding>) {
    let Some(archive) = policy.archive_table_name() else {
        return;
    };
    if archive == policy.table {
        out.push(invalid(
            policy,
            None,
            format!(
                "archive_table: {}",
                render::ruby_symbol(&format!("{}_archive", policy.table))
            ),
            format!(
                "The {} archives rows into the table itself: each batch would copy the rows \
                 and then delete them, originals and copies.",
                describe(policy)
            ),
        ));
        return;
    }
    // A missing archive table is created by the executor with the table's
    // columns (the plan step says so): not a finding.
    let Some(target) = ctx.position(&archive).and_then(|i| ctx.table(i)) else {
        return;
    };
    if target.columns.is_empty() {
        return;
    }
    let absent: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| target.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !absent.is_empty() {
        out.push(finding(
            FindingKind::InvalidPolicy,
            policy,
            None,
            absent
                .iter()
                .map(|c| {
                    let ty = table
                        .column(c)
                        .map(|col| col.sql_type.clone())
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "text".to_owned());
                    format!(
                        "add_column {}, {}, {}",
                        render::ruby_symbol(&archive),
                        render::ruby_symbol(c),
                        render::ruby_string(&ty)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            format!(
                "The {} copies rows into {archive}, which lacks {}: the copy fails, and the \
                 rows are not deleted either (archive and delete run in one transaction).",
                describe(policy),
                absent.join(", ")
            ),
            Priority::High,
        ));
    }
}

/// The columns a policy's condition filters, as the index check needs them.
struct Condition {
    /// Columns compared with `=`, `IN` or `IS NULL`, in order: an index can
    /// lead with them.
    equality: Vec<String>,
}

fn parse_condition(
    ctx: &Ctx<'_>,
    policy: &Policy,
    table: &Table,
    text: &str,
    out: &mut Vec<Finding>,
) -> Option<Condition> {
    let dialect = ctx.dialect;
    let normalized = crate::sql::normalize(text.as_bytes(), dialect);
    let bad = |message: String, out: &mut Vec<Finding>| {
        out.push(invalid(
            policy,
            None,
            "Write where: as one SQL condition on the table's columns, e.g. where: \"status = 'completed'\"".to_owned(),
            format!(
                "The where condition of the {} ({normalized}) {message}",
                describe(policy)
            ),
        ));
    };
    let several = Tokenizer::new(text.as_bytes(), dialect).any(|t| t.kind == TokenKind::Semicolon);
    if several {
        bad(
            "holds a semicolon: it must be one condition, never several statements.".to_owned(),
            out,
        );
        return None;
    }
    let sql = format!(
        "SELECT 1 FROM {} WHERE {text}",
        render::quote_qualified(&table.name, dialect)
    );
    let shape = match analyze_uncached(sql.as_bytes(), dialect, Limits::default()) {
        Ok(shape) => shape,
        Err(e) => {
            bad(format!("does not parse: {e}."), out);
            return None;
        }
    };
    if !shape.order_by.is_empty()
        || shape.limit.is_some()
        || shape.offset.is_some()
        || !shape.group_by.is_empty()
    {
        bad(
            "goes on past the condition (ORDER BY, GROUP BY, LIMIT): it must be a condition only."
                .to_owned(),
            out,
        );
        return None;
    }
    let own = |t: &Option<String>| t.as_deref().is_none_or(|t| t == table.name);
    let mut equality: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for predicate in shape.predicates.iter().filter(|p| own(&p.table)) {
        if !table.columns.is_empty()
            && table.column(&predicate.column).is_none()
            && !unknown.contains(&predicate.column)
        {
            unknown.push(predicate.column.clone());
            continue;
        }
        let usable = matches!(
            predicate.op,
            PredicateOp::Eq | PredicateOp::In | PredicateOp::IsNull
        );
        if usable
            && predicate.column != policy.timestamp_column
            && !equality.contains(&predicate.column)
        {
            equality.push(predicate.column.clone());
        }
    }
    for column in &unknown {
        out.push(invalid(
            policy,
            Some(column),
            format!("Fix {column} in the where condition"),
            format!(
                "The where condition of the {} ({normalized}) filters {column}, which is not \
                 a column of {}: the cleanup query fails.",
                describe(policy),
                policy.table
            ),
        ));
    }
    if !unknown.is_empty() {
        return None;
    }
    Some(Condition { equality })
}

/// The plain-column keys of a usable index: btree (or BRIN when
/// `brin_ok`), not partial unless its predicate is the policy's condition.
fn usable_keys(view: &View<'_>, condition: Option<&str>, brin_ok: bool) -> Option<Vec<String>> {
    let method_ok =
        view.index.is_btree() || (brin_ok && view.index.method.eq_ignore_ascii_case("brin"));
    let predicate_ok = match &view.predicate {
        None => true,
        Some(p) => condition.is_some_and(|c| c == p),
    };
    if !method_ok || !predicate_ok {
        return None;
    }
    let mut keys = Vec::new();
    for key in &view.keys {
        if key.expression {
            break;
        }
        keys.push(key.text.clone());
    }
    Some(keys)
}

fn unindexed(
    ctx: &Ctx<'_>,
    policy: &Policy,
    table: &Table,
    condition: Option<&Condition>,
    out: &mut Vec<Finding>,
) {
    let dialect = ctx.dialect;
    let normalized = policy
        .condition
        .as_deref()
        .map(|c| normalize_text(c, dialect));
    let views = views(table, dialect);
    let stamp = policy.timestamp_column.as_str();
    let equality: &[String] = condition.map_or(&[], |c| c.equality.as_slice());
    let mut stamp_served = false;
    let mut served: HashSet<String> = HashSet::new();
    for view in &views {
        let brin = usable_keys(view, normalized.as_deref(), true);
        if brin.as_ref().and_then(|k| k.first()).map(String::as_str) == Some(stamp) {
            stamp_served = true;
        }
        let Some(keys) = usable_keys(view, normalized.as_deref(), false) else {
            continue;
        };
        // A partial index on exactly the condition holds only the rows it selects.
        if view.predicate.is_some() && keys.first().is_some_and(|k| k == stamp) {
            served.extend(equality.iter().cloned());
        }
        // (equality columns..., timestamp) serves the timestamp too.
        if let Some(at) = keys.iter().position(|k| k == stamp) {
            if at > 0 && keys.iter().take(at).all(|k| equality.contains(k)) {
                stamp_served = true;
            }
            for k in keys.iter().take(at) {
                served.insert(k.clone());
            }
        }
        if let Some(first) = keys.first() {
            served.insert(first.clone());
        }
    }
    let unserved: Vec<&String> = equality
        .iter()
        .filter(|c| !served.contains(c.as_str()))
        .collect();
    if stamp_served && unserved.is_empty() {
        return;
    }
    let (columns, column, priority) = if stamp_served {
        let mut columns: Vec<String> = equality.to_vec();
        columns.push(stamp.to_owned());
        let first = unserved.first().map(|c| c.as_str()).unwrap_or(stamp);
        (columns, first.to_owned(), lower(size_priority(table)))
    } else if unserved.is_empty() {
        (
            vec![stamp.to_owned()],
            stamp.to_owned(),
            size_priority(table),
        )
    } else {
        let mut columns: Vec<String> = equality.to_vec();
        columns.push(stamp.to_owned());
        (columns, stamp.to_owned(), size_priority(table))
    };
    let name = fresh_index_name(table, &columns, "");
    let line = render::add_index_call(dialect, &table.name, &columns, &[], &name, None);
    let estimate = size::estimate(table, &columns, dialect).map_or_else(String::new, |e| {
        format!(" The index would take {}.", e.phrase())
    });
    let what = if stamp_served {
        format!(
            "the where condition filters {} and no index leads with {} (or has {} before {stamp})",
            unserved
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if unserved.len() == 1 { "it" } else { "them" },
            if unserved.len() == 1 { "it" } else { "them" },
        )
    } else if unserved.is_empty() {
        format!("no index leads with {stamp}")
    } else {
        format!(
            "no index leads with {stamp}, nor with the condition's {}",
            unserved
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let concurrently = if dialect == Dialect::Postgres {
        " (in a migration with disable_ddl_transaction!, as CREATE INDEX CONCURRENTLY cannot run in a transaction)"
    } else {
        ""
    };
    out.push(finding(
        FindingKind::UnindexedPolicyColumn,
        policy,
        Some(&column),
        line,
        format!(
            "The {} selects expired rows by {stamp}{}, but {what}: every cleanup batch scans \
             {}.{estimate} Add the index{concurrently}.",
            describe(policy),
            if equality.is_empty() {
                String::new()
            } else {
                format!(" and {}", equality.join(", "))
            },
            table_stats(table)
        ),
        priority,
    ));
}

/// The Rails name for an index on `columns`, `suffix` appended, made unique
/// among the table's indexes.
pub(crate) fn fresh_index_name(table: &Table, columns: &[String], suffix: &str) -> String {
    let bare = render::bare(&table.name);
    let base = render::rails_index_name(bare, columns);
    let taken = |n: &str| table.indexes.iter().any(|i| i.name == n);
    let mut name = if suffix.is_empty() {
        base.clone()
    } else {
        format!("{base}_{suffix}")
    };
    if name.len() > render::MAX_INDEX_NAME_BYTES {
        let mut cols = columns.to_vec();
        cols.push(suffix.to_owned());
        name = render::rails_index_name(bare, &cols);
    }
    let mut n = 2;
    while taken(&name) && n < 100 {
        let mut cols = columns.to_vec();
        cols.push(format!("{suffix}{n}"));
        name = render::rails_index_name(bare, &cols);
        n += 1;
    }
    name
}

fn partition(ctx: &Ctx<'_>, policy: &Policy, table: &Table, out: &mut Vec<Finding>) {
    let options = &ctx.input.options;
    let large = table.rows.is_some_and(|r| r >= options.large_table_rows)
        || table
            .size_bytes
            .is_some_and(|b| b >= options.large_table_bytes);
    if !large || !policy.action.removes_rows() || ctx.dialect == Dialect::Sqlite {
        return;
    }
    let name = &table.name;
    let bare = render::bare(name);
    let stamp = &policy.timestamp_column;
    let q = |s: &str| render::quote_qualified(s, ctx.dialect);
    let old = format!("{bare}_p2024_01");
    let (suggestion, trade_offs) = match ctx.dialect {
        Dialect::Mysql => (
            format!(
                "Partition {name} by month: ALTER TABLE {} PARTITION BY RANGE (TO_DAYS({})) \
                 (PARTITION p2024_01 VALUES LESS THAN (TO_DAYS('2024-02-01')), ..., PARTITION \
                 pmax VALUES LESS THAN MAXVALUE), adding next month's partition ahead of time \
                 (REORGANIZE PARTITION pmax). The cleanup then {}: ALTER TABLE {} DROP \
                 PARTITION p2024_01.",
                q(name),
                q(stamp),
                if policy.action == Action::Archive {
                    format!(
                        "swaps the expired partition into {} (ALTER TABLE ... EXCHANGE PARTITION) \
                         instead of copying rows, or",
                        policy.archive_table_name().unwrap_or_default()
                    )
                } else {
                    "drops whole months".to_owned()
                },
                q(name)
            ),
            format!(
                "InnoDB partitioned tables cannot have foreign keys (neither to nor from \
                 them), every unique key including the primary key must contain {stamp}, and \
                 ALTER TABLE ... PARTITION BY rewrites the table (plan it with \
                 pt-online-schema-change or gh-ost)."
            ),
        ),
        _ => (
            format!(
                "Partition {name} by RANGE ({stamp}), one partition a month (PostgreSQL \
                 declarative partitioning): CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS \
                 INCLUDING CONSTRAINTS) PARTITION BY RANGE ({}) with the primary key \
                 (id, {stamp}); create the monthly partitions ahead of time (pg_partman or a \
                 scheduled job: CREATE TABLE {} PARTITION OF ... FOR VALUES FROM \
                 ('2024-01-01') TO ('2024-02-01')); move the rows in batches, or attach the \
                 current table as one old partition after adding a matching CHECK constraint \
                 (no scan); swap the names in one transaction. The cleanup then {}: ALTER \
                 TABLE {} DETACH PARTITION {} CONCURRENTLY; DROP TABLE {}.",
                q(&format!("{name}_partitioned")),
                q(name),
                q(stamp),
                q(&old),
                if policy.action == Action::Archive {
                    format!(
                        "detaches expired months and keeps them as the archive (or dumps them \
                         to object storage) instead of copying rows into {}",
                        policy.archive_table_name().unwrap_or_default()
                    )
                } else {
                    "drops whole months".to_owned()
                },
                q(name),
                q(&old),
                q(&old)
            ),
            format!(
                "Every unique index and the primary key must include {stamp}; foreign keys \
                 that reference {name} must reference that composite key (PostgreSQL 12+); \
                 queries that do not filter by {stamp} visit every partition; DETACH \
                 PARTITION CONCURRENTLY needs PostgreSQL 14."
            ),
        ),
    };
    let condition_note = if policy.condition.is_some() {
        " The policy has a where condition: dropping a month removes all its rows, so it \
         fits once every row of an expired month may go; until then keep the batched DELETE \
         for the rows the condition selects."
    } else {
        ""
    };
    let mut threshold = Vec::new();
    if table.rows.is_some_and(|r| r >= options.large_table_rows) {
        threshold.push(format!("{} rows", render::count(options.large_table_rows)));
    }
    if table
        .size_bytes
        .is_some_and(|b| b >= options.large_table_bytes)
    {
        threshold.push(render::bytes(options.large_table_bytes));
    }
    out.push(finding(
        FindingKind::PartitionCandidate,
        policy,
        None,
        suggestion,
        format!(
            "{} is at or above the partitioning threshold ({}) and its {} removes rows by age \
             with DELETE: every deleted row is written to the WAL, leaves a dead tuple for \
             autovacuum and bloat in the table and each index, and a large backlog takes hours. \
             With time-range partitions, expired data leaves as a whole partition: a metadata \
             change that frees the space at once.{condition_note} Trade-offs: {trade_offs}",
            table_stats(table),
            threshold.join(" or "),
            describe(policy)
        ),
        Priority::Medium,
    ));
}

fn cleanup_order(ctx: &Ctx<'_>, policy: &Policy, table: &Table, out: &mut Vec<Finding>) {
    let Some(index) = ctx.position(&table.name) else {
        return;
    };
    // child table -> its edges into this table that neither cascade nor nullify.
    let mut children: BTreeMap<String, Vec<&super::graph::Edge>> = BTreeMap::new();
    for edge in ctx.references_to(index) {
        if edge.child == index || edge.follows_delete() {
            continue;
        }
        let Some(child) = ctx.table(edge.child) else {
            continue;
        };
        if super::is_framework(&child.name) {
            continue;
        }
        children.entry(child.name.clone()).or_default().push(edge);
    }
    if children.is_empty() {
        return;
    }
    let blocking = children.values().flatten().any(|e| e.blocks_delete());
    let mut lines = Vec::new();
    let mut details = Vec::new();
    for (child, edges) in &children {
        let ordered = ctx.position(child).is_some_and(|c| {
            ctx.policies_of(c)
                .any(|p| p.by_age() && p.action.removes_rows())
        });
        for edge in edges {
            let effect = if edge.blocks_delete() {
                "deleting a referenced row fails"
            } else {
                "deleting leaves its rows pointing at rows that no longer exist"
            };
            details.push(format!(
                "{} ({}): {effect}",
                edge.describe(ctx),
                edge.origin()
            ));
            if edge.polymorphic {
                lines.push(format!(
                    "{}  # polymorphic: no foreign key possible; remove {child} rows of deleted {} in the same job",
                    Dsl {
                        table: child,
                        keep: policy.keep_seconds.map(duration),
                        timestamp_column: None,
                        condition: None,
                        action: Action::Delete,
                        columns: &[],
                        legal_basis: None,
                    }
                    .line(),
                    table.name
                ));
                continue;
            }
            let add = format!(
                "add_foreign_key {}, {}, column: {}, on_delete: :cascade, validate: false",
                render::ruby_symbol(child),
                render::ruby_symbol(&table.name),
                render::ruby_symbol(&edge.id_column)
            );
            if edge.via == crate::index::Via::Declared {
                lines.push(format!(
                    "remove_foreign_key {}, column: {}",
                    render::ruby_symbol(child),
                    render::ruby_symbol(&edge.id_column)
                ));
            }
            lines.push(add);
        }
        if ordered {
            details.push(format!(
                "{child} has its own policy and runs first in the plan, but its younger rows \
                 can still reference expired {} rows",
                table.name
            ));
        }
    }
    lines.dedup();
    out.push(finding(
        FindingKind::CleanupOrder,
        policy,
        None,
        lines.join("\n"),
        format!(
            "The {} deletes rows that {} reference{}: {}. Batched DELETEs run no Rails \
             callbacks, so dependent: options do not help. Cascade the foreign keys (the \
             migration lines; validate them afterwards with validate_foreign_key), or give the \
             child tables policies that remove their rows first.",
            describe(policy),
            children.keys().cloned().collect::<Vec<_>>().join(", "),
            if children.len() == 1 { "s" } else { "" },
            details.join("; ")
        ),
        if blocking {
            Priority::High
        } else {
            Priority::Medium
        },
    ));
}

/// The age-based policies in execution order, children first.
fn plan(ctx: &Ctx<'_>, flags: &mut [bool], out: &mut Vec<Finding>) -> Vec<PlanStep> {
    // Steps by table name, each with its policies in input order.
    let mut by_table: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, policy) in ctx.input.policies.iter().enumerate() {
        if policy.by_age() && ctx.position(&policy.table).is_some() {
            by_table.entry(policy.table.as_str()).or_default().push(i);
        }
    }
    // depends_on: policy tables whose rows reference the table.
    let mut depends: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &name in by_table.keys() {
        let Some(index) = ctx.position(name) else {
            continue;
        };
        let children: BTreeSet<&str> = ctx
            .references_to(index)
            .filter(|e| e.child != index)
            .filter_map(|e| ctx.table(e.child).map(|t| t.name.as_str()))
            .filter(|c| by_table.contains_key(c))
            .collect();
        depends.insert(name, children);
    }
    // Batching by key: one integer or uuid primary key column.
    for (&name, policies) in &by_table {
        let Some(table) = ctx.position(name).and_then(|i| ctx.table(i)) else {
            continue;
        };
        let key_ok = match table.primary_key.as_slice() {
            [one] => match table.column(one) {
                Some(column) => matches!(
                    type_class(&column.sql_type),
                    TypeClass::Integer | TypeClass::Uuid | TypeClass::Unknown
                ),
                None => table.columns.is_empty(),
            },
            _ => false,
        };
        if key_ok {
            continue;
        }
        let why = match table.primary_key.as_slice() {
            [] => "has no primary key".to_owned(),
            [one] => format!(
                "has the primary key {one} of type {}, neither an integer nor a uuid",
                table.column(one).map_or("unknown", |c| c.sql_type.as_str())
            ),
            many => format!("has a composite primary key ({})", many.join(", ")),
        };
        for &i in policies {
            if let Some(policy) = ctx.input.policies.get(i) {
                out.push(invalid(
                    policy,
                    None,
                    format!(
                        "add_column {}, :id, :primary_key  # or a unique bigint / uuid column to batch by",
                        render::ruby_symbol(name)
                    ),
                    format!(
                        "The {} cannot run in batches by key range: {name} {why}. The \
                         executor walks the table by ranges of one integer or uuid key, \
                         so each batch is an index range scan and a lock on few rows.",
                        describe(policy)
                    ),
                ));
                if let Some(slot) = flags.get_mut(i) {
                    *slot = true;
                }
            }
        }
    }

    let mut emitted: Vec<&str> = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    let mut remaining: BTreeSet<&str> = by_table.keys().copied().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().copied().find(|t| {
            depends
                .get(t)
                .is_none_or(|d| d.iter().all(|c| done.contains(c)))
        });
        let next = match ready {
            Some(t) => t,
            None => {
                let Some(first) = remaining.iter().next().copied() else {
                    break;
                };
                out.push(cycle(ctx, first, &depends, &done));
                first
            }
        };
        remaining.remove(next);
        done.insert(next);
        emitted.push(next);
    }

    let mut steps = Vec::new();
    for name in emitted {
        let Some(table) = ctx.position(name).and_then(|i| ctx.table(i)) else {
            continue;
        };
        for &i in by_table.get(name).into_iter().flatten() {
            let Some(policy) = ctx.input.policies.get(i) else {
                continue;
            };
            steps.push(PlanStep {
                table: policy.table.clone(),
                action: policy.action,
                keep_seconds: policy.keep_seconds.unwrap_or_default(),
                timestamp_column: policy.timestamp_column.clone(),
                condition: policy.condition.clone(),
                create_archive_table: policy
                    .archive_table_name()
                    .is_some_and(|a| ctx.position(&a).is_none()),
                archive_table: policy.archive_table_name(),
                batch_size: policy.effective_batch_size(),
                columns: if policy.action == Action::Anonymize {
                    policy.columns.clone()
                } else {
                    Vec::new()
                },
                hashed_columns: if policy.action == Action::Anonymize {
                    policy.hashed_columns.clone()
                } else {
                    Vec::new()
                },
                key: table.primary_key.clone(),
                depends_on: depends
                    .get(name)
                    .map(|d| d.iter().map(|s| (*s).to_owned()).collect())
                    .unwrap_or_default(),
                runnable: !flags.get(i).copied().unwrap_or(false),
            });
        }
    }
    steps
}

/// The finding for a cycle broken at `first`: the cycle found by following
/// the alphabetically first pending dependency from it.
fn cycle(
    ctx: &Ctx<'_>,
    first: &str,
    depends: &BTreeMap<&str, BTreeSet<&str>>,
    done: &HashSet<&str>,
) -> Finding {
    let mut walk: Vec<&str> = vec![first];
    let mut current = first;
    let members = loop {
        let next = depends
            .get(current)
            .and_then(|d| d.iter().copied().find(|c| !done.contains(c)));
        let Some(next) = next else {
            break walk.clone();
        };
        if let Some(at) = walk.iter().position(|t| *t == next) {
            let mut members: Vec<&str> = walk.get(at..).unwrap_or_default().to_vec();
            members.push(next);
            break members;
        }
        walk.push(next);
        current = next;
        if walk.len() > ctx.schema.tables.len() + 1 {
            break walk.clone();
        }
    };
    let chain = members.join(" <- ");
    Finding {
        kind: FindingKind::CleanupOrder,
        table: first.to_owned(),
        column: None,
        path: None,
        category: None,
        suggestion: format!(
            "Make one of the references in the cycle ON DELETE CASCADE or SET NULL (or nullable \
             and cleared first), so one table can go before the other: {}",
            members
                .windows(2)
                .filter_map(|w| match w {
                    [parent, child] => Some(format!("{child} references {parent}")),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        reason: format!(
            "The policy tables reference each other in a cycle ({chain}, each referenced by the \
             next): no order cleans every child before its parent. The plan breaks it at {first} \
             (the alphabetically first), which runs before tables that still reference it, so \
             its deletes can fail on foreign keys or orphan those rows."
        ),
        priority: Priority::High,
    }
}
