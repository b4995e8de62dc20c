//! The reference graph (which table's rows reference which), the tables
//! linked to a person, and the right-to-erasure coverage check.

use std::collections::{HashSet, VecDeque};

use super::{
    is_framework, Action, Classification, Ctx, DependentOption, Dsl, Finding, FindingKind,
};
use crate::detect::Priority;
use crate::index::{foreign_keys, inflect, render, Via};
use crate::schema::OnDelete;

/// Prefixes of a polymorphic pair (`owner_type` / `owner_id`) that are taken
/// to point at the subject when no `dependents` entry says where they point.
pub(crate) const OWNER_PREFIXES: [&str; 6] =
    ["owner", "author", "creator", "actor", "recipient", "sender"];

/// Last words of table names that hold people (`team_members`, `profiles`).
const PEOPLE_TABLES: [&str; 20] = [
    "users",
    "people",
    "persons",
    "members",
    "customers",
    "contacts",
    "profiles",
    "athletes",
    "trainers",
    "coaches",
    "clients",
    "patients",
    "employees",
    "admins",
    "guardians",
    "participants",
    "players",
    "students",
    "instructors",
    "subscribers",
];

/// A table of people: its last word is one of the people words.
pub(crate) fn is_people_table(name: &str) -> bool {
    let bare = render::bare(name);
    let last = bare.rsplit('_').next().unwrap_or(bare);
    PEOPLE_TABLES.contains(&last)
}

/// One reference: rows of `child` point at rows of `parent`.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub child: usize,
    pub parent: usize,
    /// The referencing columns (`[type, id]` for a polymorphic pair).
    pub columns: Vec<String>,
    /// The column a `dependents` entry names (the `_id` of a pair).
    pub id_column: String,
    pub via: Via,
    pub on_delete: Option<OnDelete>,
    pub name: Option<String>,
    pub polymorphic: bool,
}

impl Edge {
    /// `workouts.user_id`, `comments (commentable_type, commentable_id)`.
    pub fn describe(&self, ctx: &Ctx<'_>) -> String {
        let table = ctx.table(self.child).map_or("", |t| t.name.as_str());
        match self.columns.as_slice() {
            [one] => format!("{table}.{one}"),
            many => format!("{table} ({})", many.join(", ")),
        }
    }

    /// How the reference is known, for a reason.
    pub fn origin(&self) -> String {
        match self.via {
            Via::Declared => {
                let action = self.on_delete.map_or_else(
                    || "ON DELETE unknown".to_owned(),
                    |a| format!("ON DELETE {}", a.sql()),
                );
                match &self.name {
                    Some(name) => format!("foreign key {name}, {action}"),
                    None => format!("foreign key, {action}"),
                }
            }
            Via::Association if self.polymorphic => {
                "polymorphic association, no foreign key possible".to_owned()
            }
            Via::Association => "belongs_to association, no foreign key".to_owned(),
            Via::Convention => "Rails naming convention, no foreign key".to_owned(),
            Via::Polymorphic => "polymorphic pair, no foreign key possible".to_owned(),
        }
    }

    /// A declared foreign key whose ON DELETE is neither CASCADE nor SET NULL.
    pub fn blocks_delete(&self) -> bool {
        self.via == Via::Declared
            && !matches!(self.on_delete, Some(OnDelete::Cascade | OnDelete::SetNull))
    }

    /// Deleting a parent row writes the children (CASCADE / SET NULL).
    pub fn follows_delete(&self) -> bool {
        self.via == Via::Declared
            && matches!(self.on_delete, Some(OnDelete::Cascade | OnDelete::SetNull))
    }
}

/// Every reference: declared foreign keys, associations and naming
/// conventions (the index advisor's candidates), `dependents` entries, and
/// polymorphic pairs named after the subject or an owner.
pub(crate) fn edges(ctx: &Ctx<'_>) -> Vec<Edge> {
    let mut out: Vec<Edge> = Vec::new();
    let subject_bare = ctx
        .subject
        .and_then(|s| ctx.table(s))
        .map(|t| render::bare(&t.name).to_owned());
    for candidate in foreign_keys::candidates(ctx.schema) {
        let id_column = candidate
            .polymorphic_id
            .clone()
            .or_else(|| candidate.columns.last().cloned())
            .unwrap_or_default();
        let polymorphic = candidate.polymorphic_id.is_some();
        let parent = match &candidate.to_table {
            Some(to) => ctx.position(to),
            None => {
                let prefix = id_column.strip_suffix("_id").unwrap_or(&id_column);
                let names_subject = subject_bare
                    .as_deref()
                    .is_some_and(|s| inflect::pluralize(prefix) == s || prefix == s);
                if names_subject || OWNER_PREFIXES.contains(&prefix) {
                    ctx.subject
                } else {
                    None
                }
            }
        };
        let Some(parent) = parent else {
            continue;
        };
        out.push(Edge {
            child: candidate.table_index,
            parent,
            columns: candidate.columns.clone(),
            id_column,
            via: candidate.via,
            on_delete: candidate.on_delete,
            name: candidate.name.clone(),
            polymorphic,
        });
    }
    for dependent in &ctx.input.dependents {
        let (Some(parent), Some(child)) = (
            ctx.position(&dependent.parent_table),
            ctx.position(&dependent.child_table),
        ) else {
            continue;
        };
        let known = out.iter().any(|e| {
            e.child == child && e.parent == parent && e.id_column == dependent.foreign_key
        });
        if known {
            continue;
        }
        let columns = match &dependent.polymorphic_type {
            Some(type_column) => vec![type_column.clone(), dependent.foreign_key.clone()],
            None => vec![dependent.foreign_key.clone()],
        };
        out.push(Edge {
            child,
            parent,
            columns,
            id_column: dependent.foreign_key.clone(),
            via: Via::Association,
            on_delete: None,
            name: None,
            polymorphic: dependent.polymorphic_type.is_some(),
        });
    }
    out
}

/// Per table, the positions in `ctx.edges` of the references to it, by
/// referencing table name and columns.
pub(crate) fn incoming(ctx: &Ctx<'_>) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); ctx.schema.tables.len()];
    for (i, edge) in ctx.edges.iter().enumerate() {
        if let Some(list) = out.get_mut(edge.parent) {
            list.push(i);
        }
    }
    let name_of = |i: usize| ctx.table(i).map_or("", |t| t.name.as_str());
    for list in &mut out {
        list.sort_by(|&a, &b| {
            let key = |e: usize| ctx.edges.get(e).map(|e| (name_of(e.child), &e.columns));
            key(a).cmp(&key(b))
        });
    }
    out
}

/// Per table: the subject, a people table, or a table that references one of
/// them (directly or transitively). Framework tables are never linked.
pub(crate) fn person_linked(ctx: &Ctx<'_>) -> Vec<bool> {
    let tables = &ctx.schema.tables;
    let mut linked = vec![false; tables.len()];
    let mut queue = VecDeque::new();
    for (i, table) in tables.iter().enumerate() {
        if (Some(i) == ctx.subject || is_people_table(&table.name)) && !is_framework(&table.name) {
            if let Some(slot) = linked.get_mut(i) {
                *slot = true;
            }
            queue.push_back(i);
        }
    }
    while let Some(parent) = queue.pop_front() {
        for edge in ctx.references_to(parent) {
            let framework = ctx.table(edge.child).is_some_and(|t| is_framework(&t.name));
            if framework {
                continue;
            }
            if let Some(slot) = linked.get_mut(edge.child) {
                if !*slot {
                    *slot = true;
                    queue.push_back(edge.child);
                }
            }
        }
    }
    linked
}

/// How one edge is handled when the parent's rows are erased.
enum Coverage {
    /// The child's rows are deleted too; `callbacks`: through Rails.
    Deleted { callbacks: bool },
    /// The reference is cleared (SET NULL, nullify).
    Nullified,
    /// Nothing handles it; the text says what there is.
    Gap(String),
}

fn coverage(ctx: &Ctx<'_>, edge: &Edge, callbacks: bool) -> Coverage {
    let (Some(parent), Some(child)) = (ctx.table(edge.parent), ctx.table(edge.child)) else {
        return Coverage::Gap(String::new());
    };
    let dependent = ctx
        .input
        .dependents
        .iter()
        .find(|d| {
            d.parent_table == parent.name
                && d.child_table == child.name
                && d.foreign_key == edge.id_column
        })
        .and_then(|d| d.dependent);
    let fk = if edge.via == Via::Declared {
        edge.on_delete
    } else {
        None
    };
    if callbacks {
        match dependent {
            Some(DependentOption::Destroy | DependentOption::DestroyAsync) => {
                return Coverage::Deleted { callbacks: true }
            }
            Some(DependentOption::DeleteAll) => return Coverage::Deleted { callbacks: false },
            Some(DependentOption::Nullify) => return Coverage::Nullified,
            // Rails refuses to destroy the parent: whatever the foreign key says.
            Some(DependentOption::RestrictWithError | DependentOption::RestrictWithException) => {
                return Coverage::Gap(format!(
                    "its association on {} is dependent: :{}, which refuses to destroy a {} \
                     row while such rows exist, so the erasure itself fails",
                    parent.name,
                    dependent.map_or("", |d| d.as_str()),
                    parent.name
                ))
            }
            Some(DependentOption::Other) | None => {}
        }
    }
    match fk {
        Some(OnDelete::Cascade) => return Coverage::Deleted { callbacks: false },
        Some(OnDelete::SetNull) => return Coverage::Nullified,
        _ => {}
    }
    let mut notes = Vec::new();
    if let Some(
        option @ (DependentOption::Destroy
        | DependentOption::DestroyAsync
        | DependentOption::DeleteAll
        | DependentOption::Nullify),
    ) = dependent
    {
        notes.push(format!(
            "the association's dependent: :{} on {} does not run, because {} rows are \
             removed by the database (ON DELETE CASCADE or delete_all), which skips Rails \
             callbacks",
            option.as_str(),
            parent.name,
            parent.name
        ));
    }
    match (edge.via, fk) {
        (Via::Declared, Some(action)) => notes.push(format!(
            "its foreign key is ON DELETE {}, so deleting the {} row fails while these rows \
             reference it",
            action.sql(),
            parent.name
        )),
        (Via::Declared, None) => notes.push(format!(
            "its foreign key's ON DELETE action is unknown (NO ACTION unless declared \
             otherwise), so deleting the {} row fails while these rows reference it",
            parent.name
        )),
        _ => notes.push(format!(
            "nothing removes or unlinks its rows, so they stay behind pointing at the erased \
             {} row",
            parent.name
        )),
    }
    Coverage::Gap(notes.join("; "))
}

/// A table-level strategy: a keep policy with a legal basis, or anonymize
/// policies that together clear every classified column of the table.
/// `Err` lists the classified columns that anonymize policies leave.
fn table_strategy(
    ctx: &Ctx<'_>,
    table: usize,
    classification: &[Classification],
) -> Result<bool, Vec<String>> {
    if ctx.policies_of(table).any(|p| p.kept_lawfully()) {
        return Ok(true);
    }
    let anonymized: Vec<&String> = ctx
        .policies_of(table)
        .filter(|p| p.action == Action::Anonymize)
        .flat_map(|p| p.columns.iter())
        .collect();
    if !ctx
        .policies_of(table)
        .any(|p| p.action == Action::Anonymize)
    {
        return Ok(false);
    }
    let name = ctx.table(table).map_or("", |t| t.name.as_str());
    let left: Vec<String> = classification
        .iter()
        .filter(|c| c.table == name && !anonymized.contains(&&c.column))
        .map(|c| c.column.clone())
        .collect();
    if left.is_empty() {
        Ok(true)
    } else {
        Err(left)
    }
}

struct Visit {
    table: usize,
    callbacks: bool,
    from: Option<usize>,
}

/// `erasure_gap` findings: a breadth-first walk from the subject over the
/// tables deleted with it.
pub(crate) fn erasure(ctx: &Ctx<'_>, classification: &[Classification], out: &mut Vec<Finding>) {
    let Some(subject) = ctx.subject else {
        out.push(Finding {
            kind: FindingKind::InvalidPolicy,
            table: ctx.input.subject.clone(),
            column: None,
            path: None,
            category: None,
            suggestion: format!(
                "Name the table of the model whose erasure is checked (subject: {:?}), or \
                 introspect the schema that holds it",
                ctx.input.subject
            ),
            reason: format!(
                "The subject table {} is not in the schema, so the right-to-erasure coverage \
                 of the tables that reference it cannot be checked.",
                ctx.input.subject
            ),
            priority: Priority::Medium,
        });
        return;
    };
    // Visits form a tree: each knows the one it came from.
    let mut visits: Vec<Visit> = vec![Visit {
        table: subject,
        callbacks: true,
        from: None,
    }];
    let mut queue = VecDeque::from([0usize]);
    let mut seen: HashSet<(usize, bool)> = HashSet::from([(subject, true)]);
    let mut reported: HashSet<usize> = HashSet::new();
    while let Some(at) = queue.pop_front() {
        let Some(&Visit {
            table, callbacks, ..
        }) = visits.get(at)
        else {
            continue;
        };
        let path = path_of(&visits, at);
        for edge in ctx.references_to(table) {
            let child = edge.child;
            if path.contains(&child) || ctx.table(child).is_none_or(|t| is_framework(&t.name)) {
                continue;
            }
            let partial = match table_strategy(ctx, child, classification) {
                Ok(true) => continue,
                Ok(false) => None,
                Err(left) => Some(left),
            };
            match coverage(ctx, edge, callbacks) {
                Coverage::Deleted { callbacks } => {
                    if seen.insert((child, callbacks)) {
                        visits.push(Visit {
                            table: child,
                            callbacks,
                            from: Some(at),
                        });
                        queue.push_back(visits.len() - 1);
                    }
                }
                Coverage::Nullified => {}
                Coverage::Gap(mut notes) => {
                    if let Some(left) = partial {
                        notes.push_str(&format!(
                            "; its anonymize policy leaves {} of its personal columns",
                            left.join(", ")
                        ));
                    }
                    if reported.insert(child) {
                        out.push(gap(ctx, classification, edge, &path, callbacks, &notes));
                    }
                }
            }
        }
    }
}

/// The tables from the subject to visit `at`.
fn path_of(visits: &[Visit], at: usize) -> Vec<usize> {
    let mut path = Vec::new();
    let mut current = Some(at);
    while let Some(i) = current {
        let Some(visit) = visits.get(i) else {
            break;
        };
        path.push(visit.table);
        current = visit.from;
        if path.len() > visits.len() {
            break;
        }
    }
    path.reverse();
    path
}

fn gap(
    ctx: &Ctx<'_>,
    classification: &[Classification],
    edge: &Edge,
    from: &[usize],
    callbacks: bool,
    notes: &str,
) -> Finding {
    let child = ctx.table(edge.child).map_or("", |t| t.name.as_str());
    let parent = ctx.table(edge.parent).map_or("", |t| t.name.as_str());
    let mut path: Vec<String> = from
        .iter()
        .filter_map(|&i| ctx.table(i).map(|t| t.name.clone()))
        .collect();
    path.push(child.to_owned());
    let held: Vec<&Classification> = classification.iter().filter(|c| c.table == child).collect();
    let category = held
        .iter()
        .find(|c| c.special_category)
        .or_else(|| held.first())
        .map(|c| c.category.clone());
    let subject = path.first().cloned().unwrap_or_default();
    let route = if path.len() > 2 {
        format!(
            " It is reached through {}, deleted with the {} row.",
            path.get(1..path.len().saturating_sub(1))
                .unwrap_or_default()
                .join(" and then "),
            subject
        )
    } else {
        String::new()
    };
    let holds = if held.is_empty() {
        String::new()
    } else {
        let cols: Vec<String> = held
            .iter()
            .map(|c| format!("{} ({})", c.column, c.category))
            .collect();
        format!(" It holds personal data: {}.", cols.join(", "))
    };
    let (suggestion, alternative) = fix(ctx, edge, callbacks, &held);
    let reason = format!(
        "Erasing a {subject} row leaves {} behind: {} references {parent} ({}) and {notes}.{route}{holds}{alternative}",
        child,
        edge.describe(ctx),
        edge.origin(),
    );
    Finding {
        kind: FindingKind::ErasureGap,
        table: child.to_owned(),
        column: Some(edge.id_column.clone()),
        path: Some(path),
        category,
        suggestion,
        reason,
        priority: if held.is_empty() {
            Priority::Medium
        } else {
            Priority::High
        },
    }
}

/// The smallest fix for an uncovered edge, and an alternative for the reason.
fn fix(ctx: &Ctx<'_>, edge: &Edge, callbacks: bool, held: &[&Classification]) -> (String, String) {
    let child = ctx.table(edge.child).map_or("", |t| t.name.as_str());
    let parent = ctx.table(edge.parent).map_or("", |t| t.name.as_str());
    let model = model_name(parent, &edge.id_column);
    let anonymize = if held.is_empty() {
        String::new()
    } else {
        let columns: Vec<String> = held.iter().map(|c| c.column.clone()).collect();
        let line = Dsl {
            table: child,
            keep: None,
            timestamp_column: None,
            condition: None,
            action: Action::Anonymize,
            columns: &columns,
            legal_basis: None,
        }
        .line();
        format!(" To keep the rows (statistics), anonymize them instead: {line}.")
    };
    let has_many = |extra: &str| {
        format!(
            "has_many {}{extra}, dependent: :destroy  # in {model}",
            render::ruby_symbol(render::bare(child))
        )
    };
    if edge.polymorphic {
        let prefix = edge
            .id_column
            .strip_suffix("_id")
            .unwrap_or(&edge.id_column);
        let line = has_many(&format!(", as: {}", render::ruby_symbol(prefix)));
        let note = if callbacks {
            String::new()
        } else {
            format!(
                " A polymorphic reference cannot have a foreign key, and {parent} rows are \
                 deleted without callbacks here: also destroy {parent} through Rails \
                 (dependent: :destroy on the association that reaches it)."
            )
        };
        return (line, format!("{note}{anonymize}"));
    }
    let conventional = edge.columns.len() == 1
        && singularize(render::bare(parent)).is_some_and(|s| format!("{s}_id") == edge.id_column);
    // An archive table has no model: only the database can reach it.
    if callbacks && !super::is_archive(child) {
        let extra = if conventional || edge.columns.len() != 1 {
            String::new()
        } else {
            format!(", foreign_key: {}", render::ruby_symbol(&edge.id_column))
        };
        let cascade = format!(
            " Or let the database do it: add_foreign_key {}, {}, column: {}, on_delete: :cascade.",
            render::ruby_symbol(child),
            render::ruby_symbol(parent),
            render::ruby_symbol(&edge.id_column)
        );
        return (has_many(&extra), format!("{cascade}{anonymize}"));
    }
    let add = format!(
        "add_foreign_key {}, {}, column: {}, on_delete: :cascade, validate: false",
        render::ruby_symbol(child),
        render::ruby_symbol(parent),
        render::ruby_symbol(&edge.id_column)
    );
    let line = if edge.via == Via::Declared {
        format!(
            "remove_foreign_key {}, column: {}\n{add}",
            render::ruby_symbol(child),
            render::ruby_symbol(&edge.id_column)
        )
    } else {
        add
    };
    (
        line,
        format!(
            " {}, so only a foreign key with ON DELETE CASCADE reaches {child}; validate it \
             afterwards with validate_foreign_key.{anonymize}",
            if callbacks {
                format!("{child} is an archive table without a model")
            } else {
                format!("{parent} rows are deleted by the database here (no callbacks)")
            }
        ),
    )
}

/// The model class of `table`: `User` from `users` (checked against the
/// plural), else `the model of <table>`.
pub(crate) fn model_name(table: &str, id_column: &str) -> String {
    let bare = render::bare(table);
    let prefix = id_column.strip_suffix("_id").unwrap_or_default();
    if !prefix.is_empty() && inflect::pluralize(prefix) == bare {
        return format!("the {} model", render::camelize(prefix));
    }
    match singularize(bare) {
        Some(singular) => format!("the {} model", render::camelize(&singular)),
        None => format!("the model of {table}"),
    }
}

/// The singular whose plural (ActiveSupport's rules) is `plural`, if one of
/// the usual endings gives it.
pub(crate) fn singularize(plural: &str) -> Option<String> {
    let split = plural.rfind('_').map_or(0, |i| i + 1);
    let (head, last) = (
        plural.get(..split).unwrap_or_default(),
        plural.get(split..).unwrap_or_default(),
    );
    let strip = |suffix: &str, add: &str| {
        last.strip_suffix(suffix)
            .filter(|s| !s.is_empty())
            .map(|s| format!("{s}{add}"))
    };
    let candidates = [
        (last == "people").then(|| "person".to_owned()),
        strip("ies", "y"),
        strip("ves", "f"),
        strip("ves", "fe"),
        strip("ses", "sis"),
        strip("es", ""),
        strip("s", ""),
        strip("i", "us"),
        strip("a", "um"),
        Some(last.to_owned()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|s| format!("{head}{s}"))
        .find(|s| inflect::pluralize(s) == plural)
}
