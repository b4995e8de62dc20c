//! Data retention and governance: retention policies checked against the
//! schema, a cleanup plan, PII and health-data classification, and a
//! right-to-erasure coverage check over every table that references the
//! subject (the users table).
//!
//! Everything here works from names and types only: no row is read, and no
//! literal value of a policy's `where` condition is repeated in a finding
//! (reasons quote it normalized, literals as `?`).
//!
//! # Input
//!
//! [`Input`], as JSON (unknown fields are ignored; optional fields may be
//! missing or `null`):
//!
//! ```json
//! {"schema": {"dialect": "postgresql", "tables": [...], "associations": [...]},
//!  "subject": "users",
//!  "policies": [
//!    {"table": "api_request_logs", "keep_seconds": 7776000, "timestamp_column": "created_at",
//!     "where": null, "action": "delete", "columns": [], "hashed_columns": [], "archive_table": null,
//!     "batch_size": 1000, "legal_basis": null}],
//!  "dependents": [
//!    {"parent_table": "users", "child_table": "workouts", "foreign_key": "user_id",
//!     "dependent": "destroy", "polymorphic_type": null}],
//!  "encrypted_columns": [{"table": "users", "column": "email"}],
//!  "options": {"large_table_rows": 10000000, "large_table_bytes": 10737418240}}
//! ```
//!
//! The schema is the [`crate::schema`] model. A policy's `action` is
//! `delete` (when missing), `archive`, `anonymize` or `keep`;
//! `timestamp_column` defaults to `created_at`, `batch_size` to 1000 and an
//! archive policy's `archive_table` to `<table>_archive`. A delete, archive or
//! anonymize policy whose `keep_seconds` is `null` keeps the rows for the
//! lifetime of the subject's account: it is not run by age (no plan step),
//! and it records a decision rather than an erasure mechanism (an anonymize
//! policy is one either way: see [Erasure](self#erasure)). `dependents` are
//! the `has_many` / `has_one` associations with their `dependent:` option
//! (`destroy`, `delete_all`, `destroy_async`, `nullify`,
//! `restrict_with_error`, `restrict_with_exception` or `null`);
//! `polymorphic_type` is the type column of an `as:` association
//! (`commentable_type`).
//!
//! # Output
//!
//! [`Report`]: `{"findings": [...], "plan": [...], "classification": [...]}`.
//! The finding kinds ([`FindingKind`]) and their rules:
//!
//! - `no_policy`: a table with a timestamp column (`created_at`, or a
//!   timestamp/datetime column named `*_at` other than `updated_at`,
//!   `deleted_at`, `discarded_at`) and no policy. Not reported for the
//!   subject table, framework tables (`schema_migrations`,
//!   `ar_internal_metadata`, `active_storage_*`, `vto_retention_runs`) and
//!   archive tables (`*_archive`). The priority comes from the table's size
//!   ([`size_priority`]); the suggested policy from its data category
//!   ([`DataCategory`], the table of periods is there).
//! - `unindexed_policy_column`: an age-based policy whose timestamp column no
//!   index leads with, or whose `where` condition filters a column (`=`,
//!   `IN`, `IS NULL`) that no index leads with and no index has before the
//!   timestamp column: the cleanup would scan the table. The suggestion is
//!   the `add_index` line (`algorithm: :concurrently` on PostgreSQL), with
//!   the condition's columns first and the timestamp last when they are
//!   unindexed too. A btree (or, for the timestamp, BRIN) index counts; a
//!   partial one only when its predicate is the policy's condition.
//! - `partition_candidate`: an age-based delete or archive policy on a table
//!   with at least `large_table_rows` rows or `large_table_bytes` bytes
//!   (PostgreSQL and MySQL): monthly range partitions by the timestamp
//!   column, dropped or detached instead of deleted row by row.
//! - `cleanup_order`: a delete or archive policy on a table that other
//!   tables reference without `ON DELETE CASCADE` / `SET NULL` (declared
//!   foreign keys: deleting fails; associations, naming conventions and
//!   polymorphic pairs: rows are orphaned), naming the child tables; also a
//!   dependency cycle among the plan's tables, broken as the plan says.
//! - `pii_column`, `special_category_column`: column classification
//!   ([`classify`](self#classification)).
//! - `erasure_gap`: a table that references the subject, directly or through
//!   tables that are deleted with it, with no erasure strategy on that edge
//!   ([`erasure`](self#erasure)).
//! - `soft_delete_without_purge`: a table with `deleted_at` or
//!   `discarded_at` and no policy whose timestamp column or `where` names it;
//!   `soft_delete_without_partial_index`: no partial index on the live rows
//!   (`WHERE deleted_at IS NULL`; not on MySQL, which has none).
//! - `keep_without_legal_basis`: a `keep` policy without a `legal_basis`.
//! - `invalid_policy`: a policy on a table that is not in the schema, a
//!   timestamp, anonymized or condition column that is not in the table, a
//!   `where` that does not parse (the parser's message, literals redacted) or
//!   is not one plain condition, anonymizing a NOT NULL column that has no
//!   default (the executor sets anonymized columns to NULL, or to the
//!   default), anonymizing the primary key, an anonymize policy without
//!   columns, a `batch_size` of 0, an archive table that is the table itself
//!   or lacks some of the table's columns (a missing one is created by the
//!   executor: the plan step's `create_archive_table`), a plan
//!   step whose table has no single-column integer or uuid primary key to
//!   batch by, and a subject table that is not in the schema.
//!
//! Findings are ordered by priority (critical first), then table, column
//! (table-level findings first), kind and reason.
//!
//! # Plan
//!
//! One [`PlanStep`] per age-based delete, archive or anonymize policy (one
//! with `keep_seconds`) on a table of the schema, children first: a table
//! whose rows reference another policy table (declared foreign keys,
//! associations, naming conventions, dependents) runs before it. Ties go by
//! table name, then by the policies' input order. A cycle is broken at its
//! alphabetically first table, with a `cleanup_order` finding. A step is
//! `runnable: false` when its policy has an `invalid_policy` finding.
//!
//! # Classification
//!
//! By column name and type only, never by contents. A column of a health
//! table (`body_measurements`, `injuries`, `medical_*`, `health_*`, ...) that
//! is linked to a person is health data. A table is *person-linked* when it
//! is the subject, a table of people (`users`, `profiles`, `members`,
//! `athletes`, ...), or references one of them directly or transitively.
//! Encrypted columns are recognized from `encrypted_columns` (Rails
//! encryption) and by lockbox / attr_encrypted naming (`*_ciphertext`,
//! `encrypted_*`, blind indexes `*_bidx`, whose initialization vectors
//! `encrypted_*_iv` are skipped): they are classified by their plaintext
//! name, with a low-priority finding (none for a blind index).
//!
//! The rules by column name, first match wins (words are the `_`-separated
//! parts of the name):
//!
//! | category | names (words are `_`-separated) | ambiguous |
//! |---|---|---|
//! | `pii:government_id` | `ssn`, `social_security_number`, `passport*`, `national_id*`, `national_insurance_number`, `tax_id`, `tax_number`, `id_card_number`, `identity_number`, `driver(s)_license*` | no |
//! | `pii:payment` | words `iban`, `last4`, `cvv`, `cvc`; `card_number`, `credit_card*`, `account_number`, `routing_number`, `bank_account*` in the name | no |
//! | *(skipped)* | other `*_id` columns; for the `pii:` rules below, names ending with a metadata word (`_count`, `_type`, `_status`, `_verified`, `_confirmed`, `_enabled`, `_unit`, `_source`, `_provider`, `_locale`, ...); for the `health:` rules only `_unit(s)`, `_source`, `_provider`, `_format`, `_version`, `_locale`, `_enabled`, `_visible`, `_public`, `_private`, `_preference(s)`, `_consent`, `_sent`, `_required` (`blood_type` and `injury_status` are health data) | |
//! | `pii:email` | word `email` | no |
//! | `pii:ip_address` | word `ip` (`ip`, `ip_address`, `*_ip`, `last_sign_in_ip`), or an `inet` / `cidr` column | no |
//! | `pii:phone` | words `phone`, `telephone`, `msisdn`; `mobile`, `mobile_number`, `fax`, `fax_number` | no |
//! | `pii:birth_date` | `dob`, `birthday`, `birthdate`, words `birth`, `birthday` | no |
//! | `pii:device_token` | word `token` with `device`, `push`, `fcm`, `apns`, `gcm` or `expo` | no |
//! | `pii:name` | `first_name`, `last_name`, `full_name`, `middle_name`, `given_name`, `family_name`, `surname`, `maiden_name`, `firstname`, `lastname`, `fullname` | no |
//! | `pii:name` | `name`, `display_name`, `nickname` on a people table | (people tables only) |
//! | `pii:address` | words `address` (not `mac`, `wallet`), `street`, `city`, `zip`, `zipcode`, `postcode`, `postal`; `address1`, `address2` | yes |
//! | `pii:geolocation` | words `lat`, `latitude`, `lng`, `lon`, `longitude`, `location`, `coordinates`, `coords`, `latlng`, `lonlat`; `long`; names starting with `geo`; `point` / `geography` / `geometry` columns | yes |
//! | `pii:free_text` | `bio`, `biography`, `about`, `about_me`, `note`, `notes`, `message`, `body`, names ending with `_notes`, `_note`, `_bio` | yes |
//! | `health:bmi` | word `bmi` | no |
//! | `health:body_fat` | `body_fat*`, `bodyfat*` | no |
//! | `health:medical` | words starting with `medical`, `diagnos`, `symptom`; `disability`, `disabilities` | no |
//! | `health:medication` | words `medication(s)`, `medicine(s)`, `prescription(s)` | no |
//! | `health:pregnancy` | words starting with `pregnan` | no |
//! | `health:blood` | word `blood`, `glucose`, `cholesterol`, `spo2` | no |
//! | `health:menstrual` | words starting with `menstru` | no |
//! | `health:injury` | words `injury`, `injuries`, `injured` | yes |
//! | `health:allergy` | words `allergy`, `allergies`, `allergic`, `allergens` | yes |
//! | `health:condition` | words `condition`, `conditions` | yes |
//! | `health:heart_rate` | words `heart`, `bpm`, `hr`, `hrv` | yes |
//! | `health:calories` | words `calories`, `calorie`, `kcal` | yes |
//! | `health:sleep` | word `sleep` | yes |
//! | `health:diet` | `dietary` or `diet` with `restriction(s)` | yes |
//! | `health:weight` | word `weight` (not on exercise, set, equipment, product or food tables, nor `weight_lifted`, `*_load`) | yes |
//! | `health:height` | word `height` (not on image, media or file tables, nor `image_height`, `box_height`) | yes |
//!
//! An ambiguous name counts only on a person-linked table: `calories` of a
//! food catalogue, `condition` of equipment or `city` of a gym are not
//! personal data. A column whose type is boolean, or a timestamp or date
//! (except a birth date and health columns), is not classified; a health
//! column may be a boolean (`pregnant`).
//!
//! Health tables, whose every column but the keys (`id`, `*_id`, `*_type`)
//! and `lock_version`, `created_at`, `updated_at`, `deleted_at`,
//! `discarded_at` is health data when the table is person-linked:
//! `body_measurements` and tables whose last word is `measurements`
//! (`health:measurement`), `injuries`, `medications` / `prescriptions`,
//! `allergies`, `pregnancies`, `vitals`, `medical_*`, `diagnoses`,
//! `symptoms` (`health:medical`), `weigh_ins`, `weight_logs` / `_entries` /
//! `_records`, `sleep_logs` / `_entries` / `_records`, and `health_*`
//! (`health:record`). Free text in a health table (`notes`) is health data.
//! A column's own health category wins over the table's.
//!
//! # Erasure
//!
//! From the subject, every table that references it (declared foreign keys,
//! `belongs_to` associations, `*_id` naming conventions, `dependents`,
//! polymorphic pairs resolved through `dependents` or named after the subject
//! or a generic owner: `owner`, `author`, `creator`, `actor`, `recipient`,
//! `sender`) needs a strategy on that edge: `ON DELETE CASCADE` or `SET
//! NULL`, a `dependents` entry with `destroy`, `destroy_async`, `delete_all`
//! or `nullify` (honoured only when the parent's rows are destroyed through
//! Rails, since cascades and `delete_all` skip callbacks), anonymize
//! policies on the table that clear every classified column of it, or a keep
//! policy with a legal basis. Tables deleted
//! with the subject are followed in turn; a table reached only through an
//! uncovered edge is reported once, at that edge, with the path from the
//! subject.
//!
//! ```
//! use vto_core::retention::check_json;
//!
//! let input = r#"{"schema": {"tables": [
//!   {"name": "users", "primary_key": ["id"], "columns": [
//!     {"name": "id", "type": "bigint"}, {"name": "email", "type": "character varying"}]},
//!   {"name": "api_request_logs", "rows": 2500000, "primary_key": ["id"], "columns": [
//!     {"name": "id", "type": "bigint"}, {"name": "user_id", "type": "bigint"},
//!     {"name": "created_at", "type": "timestamp(6) without time zone"}],
//!    "foreign_keys": [{"columns": ["user_id"], "to_table": "users", "on_delete": "cascade"}]}]},
//!  "subject": "users", "policies": [], "dependents": []}"#;
//! let report: serde_json::Value = serde_json::from_str(&check_json(input)?).unwrap();
//! let no_policy = report["findings"].as_array().unwrap().iter()
//!     .find(|f| f["kind"] == "no_policy").unwrap();
//! assert_eq!(no_policy["table"], "api_request_logs");
//! assert_eq!(no_policy["priority"], "high"); // 2.5M rows
//! assert_eq!(no_policy["suggestion"], "table :api_request_logs, keep: 90.days, action: :delete");
//! assert_eq!(report["classification"][0]["category"], "pii:email");
//! # Ok::<(), vto_core::Error>(())
//! ```

mod classify;
mod graph;
mod inventory;
mod policy;

pub use inventory::DataCategory;

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::detect::Priority;
use crate::index::render;
use crate::schema::{nullable, Schema, Table};
use crate::{Dialect, Error};

/// Default `options.large_table_rows`: tables from 10 million rows are
/// partitioning candidates.
pub const DEFAULT_LARGE_TABLE_ROWS: u64 = 10_000_000;
/// Default `options.large_table_bytes`: tables from 10 GiB are partitioning
/// candidates.
pub const DEFAULT_LARGE_TABLE_BYTES: u64 = 10 * 1024 * 1024 * 1024;
/// A policy's default `batch_size`.
pub const DEFAULT_BATCH_SIZE: u64 = 1000;
/// A policy's default `timestamp_column`.
pub const DEFAULT_TIMESTAMP_COLUMN: &str = "created_at";
/// The subject table when the input names none.
pub const DEFAULT_SUBJECT: &str = "users";
/// From this many rows (or [`HIGH_BYTES`]) a table's retention findings are
/// high priority.
pub const HIGH_ROWS: u64 = 1_000_000;
/// From this many bytes (1 GiB) a table's retention findings are high priority.
pub const HIGH_BYTES: u64 = 1024 * 1024 * 1024;
/// From this many rows (or [`MEDIUM_BYTES`]) they are medium priority.
pub const MEDIUM_ROWS: u64 = 100_000;
/// From this many bytes (100 MiB) they are medium priority.
pub const MEDIUM_BYTES: u64 = 100 * 1024 * 1024;

const DAY: u64 = 86_400;

/// What [`check`] reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The schema ([`crate::schema`]'s JSON shape).
    #[serde(default, deserialize_with = "nullable")]
    pub schema: Schema,
    /// The table of the people whose data it is and whose erasure is checked
    /// ([`DEFAULT_SUBJECT`] when missing or empty).
    #[serde(default = "default_subject", deserialize_with = "subject")]
    pub subject: String,
    /// The retention policies.
    #[serde(default, deserialize_with = "nullable")]
    pub policies: Vec<Policy>,
    /// `has_many` / `has_one` associations with their `dependent:` option.
    #[serde(default, deserialize_with = "nullable")]
    pub dependents: Vec<Dependent>,
    /// Columns encrypted by the application (Active Record Encryption cannot
    /// be seen in the schema).
    #[serde(default, deserialize_with = "nullable")]
    pub encrypted_columns: Vec<EncryptedColumn>,
    /// Thresholds.
    #[serde(default, deserialize_with = "nullable")]
    pub options: Options,
}

impl Default for Input {
    fn default() -> Self {
        Input {
            schema: Schema::default(),
            subject: default_subject(),
            policies: Vec::new(),
            dependents: Vec::new(),
            encrypted_columns: Vec::new(),
            options: Options::default(),
        }
    }
}

impl Input {
    /// Decodes the input from JSON text; [`Error::InvalidInput`] when it is
    /// not JSON, not of this shape (an unknown `action`, a table without a
    /// name), or an index key has neither a column nor an expression.
    pub fn from_json(json: &str) -> Result<Input, Error> {
        let invalid = |message: String| Error::InvalidInput {
            message: format!("retention input JSON: {message}"),
        };
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object ({\"schema\": {...}, \"policies\": [...]})".to_owned(),
            ));
        }
        let input: Input = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        input.schema.check_keys().map_err(invalid)?;
        Ok(input)
    }
}

fn default_subject() -> String {
    DEFAULT_SUBJECT.to_owned()
}

fn subject<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(default_subject))
}

/// One retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The table.
    pub table: String,
    /// Rows older than this many seconds (by `timestamp_column`) go; `null`:
    /// kept for the lifetime of the subject's account (not run by age).
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub keep_seconds: Option<u64>,
    /// The column that dates a row ([`DEFAULT_TIMESTAMP_COLUMN`] when missing).
    #[serde(default = "default_timestamp", deserialize_with = "timestamp")]
    pub timestamp_column: String,
    /// An extra SQL condition on the rows (`status = 'completed'`).
    #[serde(rename = "where", default, deserialize_with = "text")]
    pub condition: Option<String>,
    /// What happens to the rows (`delete` when missing).
    #[serde(default, deserialize_with = "nullable")]
    pub action: Action,
    /// The columns an anonymize policy clears.
    #[serde(default, deserialize_with = "nullable")]
    pub columns: Vec<String>,
    /// Those of `columns` replaced by a keyed hash (`vto:` and 64 hex
    /// digits) instead of NULL: text columns that stay unique and joinable.
    #[serde(default, deserialize_with = "nullable")]
    pub hashed_columns: Vec<String>,
    /// Where an archive policy copies the rows (`<table>_archive` when missing).
    #[serde(default, deserialize_with = "text")]
    pub archive_table: Option<String>,
    /// Rows per batch ([`DEFAULT_BATCH_SIZE`] when missing).
    #[serde(default, deserialize_with = "crate::schema::count")]
    pub batch_size: Option<u64>,
    /// Why a `keep` policy keeps the rows (`legal obligation: accounting`).
    #[serde(default, deserialize_with = "text")]
    pub legal_basis: Option<String>,
}

impl Policy {
    /// The archive table: the given one, else `<table>_archive`, for an
    /// archive policy; `None` for the other actions.
    pub fn archive_table_name(&self) -> Option<String> {
        (self.action == Action::Archive).then(|| {
            self.archive_table
                .clone()
                .unwrap_or_else(|| format!("{}_archive", self.table))
        })
    }

    /// The batch size, [`DEFAULT_BATCH_SIZE`] when missing or 0.
    pub fn effective_batch_size(&self) -> u64 {
        self.batch_size
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_BATCH_SIZE)
    }

    /// Whether the policy runs by age: a delete, archive or anonymize policy
    /// with `keep_seconds`.
    pub fn by_age(&self) -> bool {
        self.action != Action::Keep && self.keep_seconds.is_some()
    }

    /// A keep policy with a non-blank legal basis.
    pub fn kept_lawfully(&self) -> bool {
        self.action == Action::Keep && self.legal_basis.is_some()
    }
}

fn default_timestamp() -> String {
    DEFAULT_TIMESTAMP_COLUMN.to_owned()
}

fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(text(d)?.unwrap_or_else(default_timestamp))
}

/// A string, trimmed; `null` or blank reads as `None`.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty()))
}

/// What a policy does with expired rows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Delete them (the default).
    #[default]
    Delete,
    /// Copy them to the archive table, then delete them (one transaction).
    Archive,
    /// Clear the policy's columns.
    Anonymize,
    /// Keep them on purpose (needs a legal basis).
    Keep,
}

impl Action {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Archive => "archive",
            Action::Anonymize => "anonymize",
            Action::Keep => "keep",
        }
    }

    /// Whether the action removes rows from the table.
    pub fn removes_rows(self) -> bool {
        matches!(self, Action::Delete | Action::Archive)
    }
}

/// A `has_many` / `has_one` association and its `dependent:` option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependent {
    /// The table of the model that declares it (`users`).
    pub parent_table: String,
    /// The associated table (`workouts`).
    pub child_table: String,
    /// The foreign key column in the child table (`user_id`).
    pub foreign_key: String,
    /// The `dependent:` option; `null` when none.
    #[serde(default)]
    pub dependent: Option<DependentOption>,
    /// The type column of a polymorphic (`as:`) association
    /// (`commentable_type`); `null` otherwise.
    #[serde(default, deserialize_with = "text")]
    pub polymorphic_type: Option<String>,
}

/// The `dependent:` option of an association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependentOption {
    /// `dependent: :destroy` (callbacks run).
    Destroy,
    /// `dependent: :delete_all` (one SQL DELETE, no callbacks).
    DeleteAll,
    /// `dependent: :destroy_async` (a background job destroys them).
    DestroyAsync,
    /// `dependent: :nullify` (the foreign key is set to NULL).
    Nullify,
    /// `dependent: :restrict_with_error` (the parent cannot be destroyed).
    RestrictWithError,
    /// `dependent: :restrict_with_exception` (the parent cannot be destroyed).
    RestrictWithException,
    /// Any other value (not a strategy).
    #[serde(other)]
    Other,
}

impl DependentOption {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            DependentOption::Destroy => "destroy",
            DependentOption::DeleteAll => "delete_all",
            DependentOption::DestroyAsync => "destroy_async",
            DependentOption::Nullify => "nullify",
            DependentOption::RestrictWithError => "restrict_with_error",
            DependentOption::RestrictWithException => "restrict_with_exception",
            DependentOption::Other => "other",
        }
    }
}

/// A column the application encrypts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedColumn {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
}

/// Thresholds of [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Policy tables with at least this many rows are partitioning
    /// candidates ([`DEFAULT_LARGE_TABLE_ROWS`]).
    #[serde(default = "default_large_rows", deserialize_with = "large_rows")]
    pub large_table_rows: u64,
    /// Policy tables with at least this many bytes are partitioning
    /// candidates ([`DEFAULT_LARGE_TABLE_BYTES`]).
    #[serde(default = "default_large_bytes", deserialize_with = "large_bytes")]
    pub large_table_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            large_table_rows: DEFAULT_LARGE_TABLE_ROWS,
            large_table_bytes: DEFAULT_LARGE_TABLE_BYTES,
        }
    }
}

fn default_large_rows() -> u64 {
    DEFAULT_LARGE_TABLE_ROWS
}

fn default_large_bytes() -> u64 {
    DEFAULT_LARGE_TABLE_BYTES
}

fn large_rows<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(crate::schema::count(d)?.unwrap_or(DEFAULT_LARGE_TABLE_ROWS))
}

fn large_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(crate::schema::count(d)?.unwrap_or(DEFAULT_LARGE_TABLE_BYTES))
}

/// What [`check`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every finding, in the order the [module docs](self) give.
    pub findings: Vec<Finding>,
    /// The age-based policies in execution order.
    pub plan: Vec<PlanStep>,
    /// Every classified column, by table and column.
    pub classification: Vec<Classification>,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A table that grows without a retention policy.
    NoPolicy,
    /// A policy's timestamp or condition column that no index serves.
    UnindexedPolicyColumn,
    /// A large policy table: partition it by time instead of deleting rows.
    PartitionCandidate,
    /// A policy table other tables reference without a cascade, or a cycle.
    CleanupOrder,
    /// A column holding personal data.
    PiiColumn,
    /// A column holding special-category (health) data.
    SpecialCategoryColumn,
    /// A table referencing the subject without an erasure strategy.
    ErasureGap,
    /// Soft-deleted rows kept forever.
    SoftDeleteWithoutPurge,
    /// No partial index on the live (not soft-deleted) rows.
    SoftDeleteWithoutPartialIndex,
    /// A keep policy without a legal basis.
    KeepWithoutLegalBasis,
    /// A policy that cannot run as written.
    InvalidPolicy,
}

impl FindingKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::NoPolicy => "no_policy",
            FindingKind::UnindexedPolicyColumn => "unindexed_policy_column",
            FindingKind::PartitionCandidate => "partition_candidate",
            FindingKind::CleanupOrder => "cleanup_order",
            FindingKind::PiiColumn => "pii_column",
            FindingKind::SpecialCategoryColumn => "special_category_column",
            FindingKind::ErasureGap => "erasure_gap",
            FindingKind::SoftDeleteWithoutPurge => "soft_delete_without_purge",
            FindingKind::SoftDeleteWithoutPartialIndex => "soft_delete_without_partial_index",
            FindingKind::KeepWithoutLegalBasis => "keep_without_legal_basis",
            FindingKind::InvalidPolicy => "invalid_policy",
        }
    }
}

/// One finding.
///
/// As JSON: `{"kind": "erasure_gap", "table": "exercise_groups", "column":
/// "workout_id", "path": ["users", "workouts", "exercise_groups"],
/// "category": "health:injury", "suggestion": "...", "reason": "...",
/// "priority": "high"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// The table.
    pub table: String,
    /// The column, for column-level findings.
    pub column: Option<String>,
    /// `erasure_gap`: the tables from the subject to this one.
    pub path: Option<Vec<String>>,
    /// The data category: `pii:email` / `health:weight` (classification,
    /// the most sensitive one of the table for `erasure_gap`), the
    /// [`DataCategory`] name for `no_policy`.
    pub category: Option<String>,
    /// The fix: a policy line of the Ruby DSL, a model line, a migration
    /// line or, for partitioning, the steps.
    pub suggestion: String,
    /// Why, with the numbers that are known.
    pub reason: String,
    /// How urgent.
    pub priority: Priority,
}

/// One step of the cleanup plan.
///
/// As JSON: `{"table": "completed_workouts", "action": "archive",
/// "keep_seconds": 63072000, "timestamp_column": "created_at", "where":
/// "status = 'completed'", "archive_table": "completed_workouts_archive",
/// "create_archive_table": false, "batch_size": 1000, "columns": [], "hashed_columns": [],
/// "key": ["id"], "depends_on":
/// ["workout_comments"], "runnable": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanStep {
    /// The table.
    pub table: String,
    /// What happens to its expired rows.
    pub action: Action,
    /// The period.
    pub keep_seconds: u64,
    /// The column that dates a row.
    pub timestamp_column: String,
    /// The policy's condition, as given (the executor's input).
    #[serde(rename = "where")]
    pub condition: Option<String>,
    /// The archive table, for an archive step.
    pub archive_table: Option<String>,
    /// The archive table is not in the schema: the executor creates it with
    /// the table's columns (without indexes, defaults or foreign keys).
    pub create_archive_table: bool,
    /// Rows per batch.
    pub batch_size: u64,
    /// The columns an anonymize step clears.
    pub columns: Vec<String>,
    /// Those of `columns` it replaces by a keyed hash instead of NULL.
    pub hashed_columns: Vec<String>,
    /// The primary key's columns, to batch by key range.
    pub key: Vec<String>,
    /// Policy tables whose rows reference this one and run before it.
    pub depends_on: Vec<String>,
    /// False when an `invalid_policy` finding concerns the policy.
    pub runnable: bool,
}

/// One classified column.
///
/// As JSON: `{"table": "body_measurements", "column": "weight_kg",
/// "category": "health:weight", "encrypted": false, "special_category": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// `pii:<kind>` or `health:<kind>`.
    pub category: String,
    /// Encrypted by the application (declared, or by lockbox /
    /// attr_encrypted naming).
    pub encrypted: bool,
    /// GDPR Art. 9 special-category data (health).
    pub special_category: bool,
}

/// Runs every analysis on `input`. Never fails: odd input gives findings.
pub fn check(input: &Input) -> Report {
    let ctx = Ctx::new(input);
    let mut findings = Vec::new();
    let classification = classify::classify(&ctx);
    classify::findings(&ctx, &classification, &mut findings);
    let plan = policy::check(&ctx, &mut findings);
    inventory::no_policy(&ctx, &classification, &mut findings);
    inventory::soft_delete(&ctx, &classification, &mut findings);
    graph::erasure(&ctx, &classification, &mut findings);
    findings.sort_by(|a, b| {
        (a.priority, &a.table, &a.column, a.kind.as_str(), &a.reason).cmp(&(
            b.priority,
            &b.table,
            &b.column,
            b.kind.as_str(),
            &b.reason,
        ))
    });
    findings.dedup();
    Report {
        findings,
        plan,
        classification,
    }
}

/// [`check`] from and to JSON text, for bindings: the input as
/// [`Input::from_json`] reads it, the [`Report`] as JSON.
pub fn check_json(input_json: &str) -> Result<String, Error> {
    let input = Input::from_json(input_json)?;
    serde_json::to_string(&check(&input)).map_err(|e| Error::InvalidInput {
        message: format!("retention report JSON: {e}"),
    })
}

/// What every analysis shares: the input, table positions, the reference
/// graph and which tables are linked to a person.
pub(crate) struct Ctx<'a> {
    pub input: &'a Input,
    pub schema: &'a Schema,
    pub dialect: Dialect,
    pub positions: HashMap<&'a str, usize>,
    pub subject: Option<usize>,
    pub edges: Vec<graph::Edge>,
    /// Per table: the positions in `edges` of the references to it, by
    /// referencing table name and columns.
    pub incoming: Vec<Vec<usize>>,
    /// Per table: the subject, a people table, or references one of them.
    pub linked: Vec<bool>,
    /// Per table: the policies on it, by position in `input.policies`.
    pub policies: Vec<Vec<usize>>,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a Input) -> Ctx<'a> {
        let schema = &input.schema;
        let positions = schema.positions();
        let subject = positions.get(input.subject.as_str()).copied();
        let mut policies = vec![Vec::new(); schema.tables.len()];
        for (i, p) in input.policies.iter().enumerate() {
            if let Some(list) = positions
                .get(p.table.as_str())
                .and_then(|&t| policies.get_mut(t))
            {
                list.push(i);
            }
        }
        let mut ctx = Ctx {
            input,
            schema,
            dialect: schema.dialect,
            positions,
            subject,
            edges: Vec::new(),
            incoming: Vec::new(),
            linked: Vec::new(),
            policies,
        };
        ctx.edges = graph::edges(&ctx);
        ctx.incoming = graph::incoming(&ctx);
        ctx.linked = graph::person_linked(&ctx);
        ctx
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    pub fn table(&self, index: usize) -> Option<&'a Table> {
        self.schema.tables.get(index)
    }

    /// The references to table `index`.
    pub fn references_to(&self, index: usize) -> impl Iterator<Item = &graph::Edge> + '_ {
        self.incoming
            .get(index)
            .into_iter()
            .flatten()
            .filter_map(|&e| self.edges.get(e))
    }

    pub fn is_linked(&self, index: usize) -> bool {
        self.linked.get(index).copied().unwrap_or(false)
    }

    /// The policies on table `index`.
    pub fn policies_of(&self, index: usize) -> impl Iterator<Item = &'a Policy> + '_ {
        self.policies
            .get(index)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.input.policies.get(i))
    }
}

/// Framework tables: never reported, classified or followed.
pub(crate) fn is_framework(name: &str) -> bool {
    let bare = render::bare(name);
    matches!(
        bare,
        "schema_migrations" | "ar_internal_metadata" | "vto_retention_runs"
    ) || bare.starts_with("active_storage_")
}

/// Archive tables (`*_archive`): no `no_policy` or soft-delete findings.
pub(crate) fn is_archive(name: &str) -> bool {
    render::bare(name).ends_with("_archive")
}

/// The priority a table's size gives: at least [`HIGH_ROWS`] rows or
/// [`HIGH_BYTES`] bytes high; at least [`MEDIUM_ROWS`] rows or
/// [`MEDIUM_BYTES`] bytes medium; smaller low; unknown (neither given) medium.
pub fn size_priority(table: &Table) -> Priority {
    let rows = table.rows;
    let bytes = table.size_bytes;
    if rows.is_none() && bytes.is_none() {
        return Priority::Medium;
    }
    let at_least = |r: u64, b: u64| rows.is_some_and(|n| n >= r) || bytes.is_some_and(|n| n >= b);
    if at_least(HIGH_ROWS, HIGH_BYTES) {
        Priority::High
    } else if at_least(MEDIUM_ROWS, MEDIUM_BYTES) {
        Priority::Medium
    } else {
        Priority::Low
    }
}

/// One level less urgent (at least low).
pub(crate) fn lower(priority: Priority) -> Priority {
    match priority {
        Priority::Critical => Priority::High,
        Priority::High => Priority::Medium,
        Priority::Medium | Priority::Low => Priority::Low,
    }
}

/// ActiveSupport's year (365.2425 days) and month (a twelfth of it), in seconds.
const YEAR: u64 = 31_556_952;
const MONTH: u64 = 2_629_746;

/// A Ruby duration: `2.years` and `6.months` for ActiveSupport's units,
/// `90.days` for a whole number of days, else `7200.seconds`.
pub(crate) fn duration(seconds: u64) -> String {
    match unit(seconds) {
        Some((n, name)) => format!("{n}.{name}"),
        None => format!("{seconds}.seconds"),
    }
}

/// `90 days`, `2 years` (or `7200 seconds`), for a reason.
pub(crate) fn duration_words(seconds: u64) -> String {
    match unit(seconds) {
        Some((1, name)) => format!("1 {}", name.trim_end_matches('s')),
        Some((n, name)) => format!("{n} {name}"),
        None => format!("{seconds} seconds"),
    }
}

fn unit(seconds: u64) -> Option<(u64, &'static str)> {
    if seconds == 0 {
        None
    } else if seconds.is_multiple_of(YEAR) {
        Some((seconds / YEAR, "years"))
    } else if seconds.is_multiple_of(DAY) {
        Some((seconds / DAY, "days"))
    } else if seconds.is_multiple_of(MONTH) {
        Some((seconds / MONTH, "months"))
    } else {
        None
    }
}

/// A policy line of the Ruby DSL:
/// `table :t, keep: 30.days, timestamp_column: :deleted_at, where: "...", action: :delete`.
pub(crate) struct Dsl<'a> {
    pub table: &'a str,
    /// A Ruby expression (`90.days`, `:account_lifetime`), or none.
    pub keep: Option<String>,
    pub timestamp_column: Option<&'a str>,
    pub condition: Option<&'a str>,
    pub action: Action,
    pub columns: &'a [String],
    pub legal_basis: Option<&'a str>,
}

impl Dsl<'_> {
    pub fn line(&self) -> String {
        let mut out = format!("table {}", render::ruby_symbol(self.table));
        if let Some(keep) = &self.keep {
            out.push_str(&format!(", keep: {keep}"));
        }
        if let Some(column) = self
            .timestamp_column
            .filter(|c| *c != DEFAULT_TIMESTAMP_COLUMN)
        {
            out.push_str(&format!(
                ", timestamp_column: {}",
                render::ruby_symbol(column)
            ));
        }
        if let Some(condition) = self.condition {
            out.push_str(&format!(", where: {}", render::ruby_string(condition)));
        }
        out.push_str(&format!(", action: :{}", self.action.as_str()));
        if !self.columns.is_empty() {
            let symbols: Vec<String> = self
                .columns
                .iter()
                .map(|c| render::ruby_symbol(c))
                .collect();
            out.push_str(&format!(", columns: [{}]", symbols.join(", ")));
        }
        if let Some(basis) = self.legal_basis {
            out.push_str(&format!(", legal_basis: {}", render::ruby_string(basis)));
        }
        out
    }
}

/// How a column's SQL type is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeClass {
    Bool,
    Timestamp,
    Date,
    Integer,
    Numeric,
    Text,
    Uuid,
    Inet,
    Geo,
    Binary,
    Unknown,
}

pub(crate) fn type_class(sql_type: &str) -> TypeClass {
    let lower = sql_type.trim().to_ascii_lowercase();
    let base = lower
        .split(['(', ' ', '['])
        .next()
        .unwrap_or_default()
        .trim_matches('"');
    match base {
        "" => TypeClass::Unknown,
        "boolean" | "bool" | "bit" => TypeClass::Bool,
        "tinyint" if lower.starts_with("tinyint(1)") => TypeClass::Bool,
        "timestamp" | "timestamptz" | "datetime" | "time" | "timetz" => TypeClass::Timestamp,
        "date" => TypeClass::Date,
        "integer" | "int" | "int2" | "int4" | "int8" | "bigint" | "smallint" | "mediumint"
        | "tinyint" | "serial" | "bigserial" | "smallserial" => TypeClass::Integer,
        "numeric" | "decimal" | "real" | "float" | "float4" | "float8" | "double" | "money" => {
            TypeClass::Numeric
        }
        "uuid" => TypeClass::Uuid,
        "inet" | "cidr" | "macaddr" | "macaddr8" => TypeClass::Inet,
        "point" | "geography" | "geometry" | "polygon" | "multipolygon" | "linestring"
        | "st_point" | "box" | "circle" => TypeClass::Geo,
        "bytea" | "blob" | "binary" | "varbinary" | "longblob" | "mediumblob" => TypeClass::Binary,
        "character" | "varchar" | "text" | "string" | "char" | "citext" | "nvarchar" | "nchar"
        | "json" | "jsonb" | "longtext" | "mediumtext" | "tinytext" | "clob" | "enum"
        | "hstore" => TypeClass::Text,
        _ => TypeClass::Unknown,
    }
}
