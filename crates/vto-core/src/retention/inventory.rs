//! Tables without a policy (`no_policy`) and soft-deleted rows
//! (`soft_delete_without_purge`, `soft_delete_without_partial_index`).

use serde::Serialize;

use super::{
    classify, duration, is_archive, is_framework, lower, size_priority, type_class, Action,
    Classification, Ctx, Dsl, Finding, FindingKind, TypeClass, DAY, DEFAULT_TIMESTAMP_COLUMN,
};
use crate::detect::Priority;
use crate::index::{normalize_text, render, table_stats};
use crate::schema::Table;
use crate::sql::token::{TokenKind, Tokenizer};
use crate::Dialect;

/// The data category of a table without a policy, inferred from its name
/// and columns; it decides the suggested policy. First match wins:
///
/// | category | tables | suggested policy |
/// |---|---|---|
/// | `ai_generations` | `ai_*`, `openai_*`, `llm_*`, `gpt_*`, `prompt*`, `*_generations`, a `prompt` / `prompts` word | delete after 30 days (at most 90: prompts and outputs are free text about the person) |
/// | `health` | person-linked, and a health table ([`classify`](super#classification)) or holding health columns | kept for the account's lifetime: `keep: :account_lifetime`, erased with the account |
/// | `user_content` | person-linked, with a word `workout(s)`, `exercise(s)`, `training(s)`, `measurement(s)`, `diet(s)`, `meal(s)`, `nutrition`, `food(s)`, `injury`/`injuries`, `health`, `medical`, `sleep`, `weight(s)`, `body`, `goal(s)`, `progress`, `program(s)`, `journal(s)`, `photo(s)`, `post(s)`, `comment(s)` | kept for the account's lifetime |
/// | `sessions_tokens` | `sessions`, `*_sessions`, `*_tokens` (not device or push tokens), `*_grants`, `password_resets` | delete 30 days after `expires_at` (sessions: after `updated_at`) when the column exists, else after creation |
/// | `notifications` | `notifications`, `*_notifications`, `messages`, `*_messages` | delete after 180 days, read ones only when there is a `read_at` |
/// | `logs` | `logs`, `*_logs`, `*_log`, `events`, `*_events`, `requests`, `api_request*`, `visits`, `*_visits`, `audits`, `*_audits`, `audit_*` | delete after 90 days |
/// | `undecided` | anything else | a placeholder period of 365 days: decide it |
///
/// The priority of a `no_policy` finding comes from the table's size
/// ([`super::size_priority`]) whatever the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    /// Prompts and outputs of AI generations.
    AiGenerations,
    /// Health data of a person.
    Health,
    /// Content a person created (workouts, diets, posts).
    UserContent,
    /// Sessions and short-lived tokens.
    SessionsTokens,
    /// Notifications and messages.
    Notifications,
    /// Request, event and audit logs.
    Logs,
    /// None of the above: a period to decide.
    Undecided,
}

impl DataCategory {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::AiGenerations => "ai_generations",
            DataCategory::Health => "health",
            DataCategory::UserContent => "user_content",
            DataCategory::SessionsTokens => "sessions_tokens",
            DataCategory::Notifications => "notifications",
            DataCategory::Logs => "logs",
            DataCategory::Undecided => "undecided",
        }
    }
}

const CONTENT_WORDS: [&str; 35] = [
    "workout",
    "workouts",
    "exercise",
    "exercises",
    "training",
    "trainings",
    "measurement",
    "measurements",
    "diet",
    "diets",
    "meal",
    "meals",
    "nutrition",
    "food",
    "foods",
    "injury",
    "injuries",
    "health",
    "medical",
    "sleep",
    "weight",
    "weights",
    "body",
    "goal",
    "goals",
    "progress",
    "program",
    "programs",
    "journal",
    "journals",
    "photo",
    "photos",
    "post",
    "posts",
    "comments",
];

const PUSH_WORDS: [&str; 6] = ["device", "push", "fcm", "apns", "gcm", "expo"];

pub(crate) fn category(
    ctx: &Ctx<'_>,
    index: usize,
    table: &Table,
    classification: &[Classification],
) -> DataCategory {
    let bare = render::bare(&table.name).to_ascii_lowercase();
    let words: Vec<&str> = bare.split('_').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    let last = words.last().copied().unwrap_or_default();
    let linked = ctx.is_linked(index);

    let ai = ["ai_", "openai_", "llm_", "gpt_", "prompt"]
        .iter()
        .any(|p| bare.starts_with(p))
        || bare.ends_with("_generations")
        || bare == "generations"
        || has("prompt")
        || has("prompts");
    if ai {
        return DataCategory::AiGenerations;
    }
    let health = classify::health_table(&table.name).is_some()
        || classification
            .iter()
            .any(|c| c.table == table.name && c.special_category);
    if linked && health {
        return DataCategory::Health;
    }
    if linked && (CONTENT_WORDS.iter().any(|w| has(w)) || has("comment")) {
        return DataCategory::UserContent;
    }
    let sessions = bare == "sessions"
        || last == "sessions"
        || (last == "tokens" && !PUSH_WORDS.iter().any(|w| has(w)))
        || last == "grants"
        || bare == "password_resets";
    if sessions {
        return DataCategory::SessionsTokens;
    }
    if matches!(last, "notifications" | "messages") {
        return DataCategory::Notifications;
    }
    let logs = matches!(last, "logs" | "log" | "events" | "visits" | "audits")
        || bare == "requests"
        || bare.starts_with("api_request")
        || bare.starts_with("audit_");
    if logs {
        return DataCategory::Logs;
    }
    DataCategory::Undecided
}

/// The column that dates a table's rows: `created_at`, else the first
/// timestamp column named `*_at` other than `updated_at`, `deleted_at` and
/// `discarded_at`.
fn timestamp_column(table: &Table) -> Option<&str> {
    if table.column(DEFAULT_TIMESTAMP_COLUMN).is_some() {
        return Some(DEFAULT_TIMESTAMP_COLUMN);
    }
    table
        .columns
        .iter()
        .find(|c| {
            c.name.ends_with("_at")
                && !matches!(
                    c.name.as_str(),
                    "updated_at" | "deleted_at" | "discarded_at"
                )
                && type_class(&c.sql_type) == TypeClass::Timestamp
        })
        .map(|c| c.name.as_str())
}

/// `no_policy` findings.
pub(crate) fn no_policy(ctx: &Ctx<'_>, classification: &[Classification], out: &mut Vec<Finding>) {
    for (index, table) in ctx.schema.tables.iter().enumerate() {
        if is_framework(&table.name)
            || is_archive(&table.name)
            || Some(index) == ctx.subject
            || ctx.policies_of(index).next().is_some()
        {
            continue;
        }
        let Some(stamp) = timestamp_column(table) else {
            continue;
        };
        let category = category(ctx, index, table, classification);
        let (suggestion, why) = suggest(table, stamp, category);
        out.push(Finding {
            kind: FindingKind::NoPolicy,
            table: table.name.clone(),
            column: None,
            path: None,
            category: Some(category.as_str().to_owned()),
            suggestion,
            reason: format!(
                "{} has a {stamp} column and no retention policy: its rows are kept forever \
                 and it grows without bound. {why}",
                table_stats(table)
            ),
            priority: size_priority(table),
        });
    }
}

fn suggest(table: &Table, stamp: &str, category: DataCategory) -> (String, String) {
    let dsl = |keep: String, stamp: &str, condition: Option<&str>| {
        Dsl {
            table: &table.name,
            keep: Some(keep),
            timestamp_column: Some(stamp),
            condition,
            action: Action::Delete,
            columns: &[],
            legal_basis: None,
        }
        .line()
    };
    match category {
        DataCategory::AiGenerations => (
            dsl(duration(30 * DAY), stamp, None),
            "It holds AI prompts and outputs, free text about the person (their goals, \
             body, health): keep them 30 days, 90 at most if support or quality review needs \
             them, and never longer than the account."
                .to_owned(),
        ),
        DataCategory::Health | DataCategory::UserContent => {
            let what = if category == DataCategory::Health {
                "health data of the person (special-category data)"
            } else {
                "content the person created"
            };
            (
                Dsl {
                    table: &table.name,
                    keep: Some(":account_lifetime".to_owned()),
                    timestamp_column: None,
                    condition: None,
                    action: Action::Delete,
                    columns: &[],
                    legal_basis: None,
                }
                .line(),
                format!(
                    "It holds {what}: it is kept while the account exists rather than for a \
                     fixed period, and must go (or be anonymized) when the account is erased. \
                     Record that as a policy tied to the account, and make sure erasure \
                     reaches the table (see the erasure findings)."
                ),
            )
        }
        DataCategory::SessionsTokens => {
            let sessions = render::bare(&table.name).ends_with("sessions");
            let preferred = if sessions { "updated_at" } else { "expires_at" };
            let stamp = if table.column(preferred).is_some() {
                preferred
            } else {
                stamp
            };
            (
                dsl(duration(30 * DAY), stamp, None),
                format!(
                    "Sessions and tokens are useless once expired: delete them 30 days after \
                     {stamp}{}.",
                    if stamp == "created_at" {
                        " (check first that no token is meant to live longer)"
                    } else {
                        ""
                    }
                ),
            )
        }
        DataCategory::Notifications => {
            let condition = table.column("read_at").map(|_| "read_at IS NOT NULL");
            (
                dsl(duration(180 * DAY), stamp, condition),
                format!(
                    "Notifications and messages lose their use after a few months: delete {} \
                     after 180 days.",
                    if condition.is_some() {
                        "the read ones"
                    } else {
                        "them"
                    }
                ),
            )
        }
        DataCategory::Logs => (
            dsl(duration(90 * DAY), stamp, None),
            "Request, event and audit logs serve debugging and security for weeks, not \
             years: 90 days is the usual period (keep a longer one only with a legal basis: \
             action: :keep, legal_basis: ...)."
                .to_owned(),
        ),
        DataCategory::Undecided => (
            format!(
                "{}  # placeholder: decide the period",
                dsl(duration(365 * DAY), stamp, None)
            ),
            "Its data category is not obvious from its name: decide a period (or a keep \
             policy with its legal basis)."
                .to_owned(),
        ),
    }
}

/// Whether `text` (SQL) names `column` as a word.
fn mentions(text: &str, column: &str, dialect: Dialect) -> bool {
    let bytes = text.as_bytes();
    Tokenizer::new(bytes, dialect).any(|t| {
        matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
            && bytes
                .get(t.start..t.end)
                .map(|w| {
                    String::from_utf8_lossy(w)
                        .trim_matches(['"', '`', '[', ']'])
                        .to_owned()
                })
                .is_some_and(|w| w.eq_ignore_ascii_case(column))
    })
}

/// Whether a normalized index predicate keeps the live rows: `col IS NULL`.
fn live_rows_predicate(predicate: &str, column: &str) -> bool {
    let wanted = format!("{column} is null");
    predicate.match_indices(&wanted).any(|(at, _)| {
        at == 0
            || predicate
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| matches!(b, b' ' | b'('))
    })
}

/// `soft_delete_without_purge` and `soft_delete_without_partial_index`.
pub(crate) fn soft_delete(
    ctx: &Ctx<'_>,
    classification: &[Classification],
    out: &mut Vec<Finding>,
) {
    for (index, table) in ctx.schema.tables.iter().enumerate() {
        if is_framework(&table.name) || is_archive(&table.name) {
            continue;
        }
        for column in ["deleted_at", "discarded_at"] {
            if table.column(column).is_none() {
                continue;
            }
            let purged = ctx.policies_of(index).any(|p| {
                p.action != Action::Keep
                    && (p.timestamp_column == column
                        || p.condition
                            .as_deref()
                            .is_some_and(|c| mentions(c, column, ctx.dialect)))
            });
            if !purged {
                let personal = Some(index) == ctx.subject
                    || classification.iter().any(|c| c.table == table.name);
                let condition = format!("{column} IS NOT NULL");
                let line = Dsl {
                    table: &table.name,
                    keep: Some(duration(30 * DAY)),
                    timestamp_column: Some(column),
                    condition: Some(&condition),
                    action: Action::Delete,
                    columns: &[],
                    legal_basis: None,
                }
                .line();
                out.push(Finding {
                    kind: FindingKind::SoftDeleteWithoutPurge,
                    table: table.name.clone(),
                    column: Some(column.to_owned()),
                    path: None,
                    category: None,
                    suggestion: line,
                    reason: format!(
                        "{} soft-deletes rows ({column}) and no policy purges them: a \
                         deleted row stays in the table, its indexes and every backup \
                         forever.{} Purge soft-deleted rows after a grace period for \
                         restores.",
                        table_stats(table),
                        if personal {
                            " It holds personal data, so a user who deleted it still has it \
                             stored: GDPR's storage limitation and erasure apply to \
                             soft-deleted rows too."
                        } else {
                            ""
                        }
                    ),
                    priority: if personal {
                        Priority::High
                    } else {
                        Priority::Medium
                    },
                });
            }
            if ctx.dialect == Dialect::Mysql {
                // MySQL has no partial indexes.
                continue;
            }
            let has_partial = table.indexes.iter().any(|i| {
                i.predicate
                    .as_deref()
                    .is_some_and(|p| live_rows_predicate(&normalize_text(p, ctx.dialect), column))
            });
            if has_partial {
                continue;
            }
            let lookup: Vec<String> = match table
                .columns
                .iter()
                .find(|c| c.name.ends_with("_id") && c.name != "id")
            {
                Some(c) => vec![c.name.clone()],
                None => table.primary_key.clone(),
            };
            if lookup.is_empty() {
                continue;
            }
            let predicate = format!("{column} IS NULL");
            let name = super::policy::fresh_index_name(table, &lookup, "live");
            let line = render::add_index_call(
                ctx.dialect,
                &table.name,
                &lookup,
                &[],
                &name,
                Some(&predicate),
            );
            out.push(Finding {
                kind: FindingKind::SoftDeleteWithoutPartialIndex,
                table: table.name.clone(),
                column: Some(column.to_owned()),
                path: None,
                category: None,
                suggestion: line,
                reason: format!(
                    "{} soft-deletes rows ({column}) and every ordinary query filters them out \
                     ({predicate}), yet no index is limited to the live rows. A partial index \
                     on {} WHERE {predicate} is smaller than a full one and never reads \
                     soft-deleted entries; it serves only queries that carry the same \
                     condition (a default scope or kept scope does).",
                    table_stats(table),
                    lookup.join(", ")
                ),
                priority: lower(size_priority(table)),
            });
        }
    }
}
