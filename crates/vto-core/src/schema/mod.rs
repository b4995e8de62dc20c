//! The schema model: tables with their columns, primary key, indexes and
//! foreign keys, plus the `belongs_to` associations of the Rails models.
//!
//! A [`Schema`] comes from one of two places:
//!
//! - the Ruby side's live introspection, as JSON ([`Schema::from_json`]);
//! - SQL DDL such as a Rails `db/structure.sql` or `pg_dump --schema-only`
//!   output ([`from_ddl`]), which also reports the statements it could not
//!   read as [`Warning`]s rather than failing.
//!
//! Every type is plain serde data; the JSON shape is the one below (unknown
//! fields are ignored, optional fields may be missing or `null`):
//!
//! ```
//! use vto_core::schema::{OnDelete, Schema};
//! use vto_core::Dialect;
//!
//! let schema = Schema::from_json(r#"{
//!   "dialect": "postgresql",
//!   "tables": [{
//!     "name": "completed_workouts", "rows": 1200, "size_bytes": 81920,
//!     "columns": [{"name": "id", "type": "bigint", "null": false, "default": null},
//!                 {"name": "user_id", "type": "bigint", "null": false, "distinct": 310,
//!                  "avg_width": 8}],
//!     "primary_key": ["id"],
//!     "indexes": [{"name": "index_completed_workouts_on_user_id_and_created_at",
//!                  "unique": false, "method": "btree", "where": null,
//!                  "keys": [{"column": "user_id", "order": "asc"},
//!                           {"column": "created_at", "order": "desc"}],
//!                  "include": [], "scans": 12, "size_bytes": 8192}],
//!     "foreign_keys": [{"name": "fk_rails_1", "columns": ["user_id"], "to_table": "users",
//!                       "to_columns": ["id"], "on_delete": "cascade"}]
//!   }],
//!   "associations": [{"table": "comments", "foreign_key": "commentable_id",
//!                     "foreign_type": "commentable_type", "polymorphic": true}]
//! }"#)?;
//! assert_eq!(schema.dialect, Dialect::Postgres);
//! let table = schema.table("completed_workouts").unwrap();
//! assert_eq!(table.rows, Some(1200));
//! assert_eq!(table.columns[1].distinct, Some(310));
//! assert_eq!(table.columns[1].avg_width, Some(8));
//! assert_eq!(table.foreign_keys[0].on_delete, Some(OnDelete::Cascade));
//! assert_eq!(table.indexes[0].keys[1].column.as_deref(), Some("created_at"));
//! # Ok::<(), vto_core::Error>(())
//! ```

mod ddl;

pub use ddl::{from_ddl, from_ddl_json, from_ddl_with_limits, DdlResult, Warning, MAX_WARNINGS};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Dialect, Error};

/// A database schema: its dialect, tables and the Rails associations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// `postgresql`, `mysql` or `sqlite` (Rails adapter names are accepted
    /// too); PostgreSQL when missing.
    #[serde(
        default = "default_dialect",
        serialize_with = "dialect_to_name",
        deserialize_with = "dialect_from_name"
    )]
    pub dialect: Dialect,
    /// Every table.
    #[serde(default, deserialize_with = "nullable")]
    pub tables: Vec<Table>,
    /// `belongs_to` reflections of the Rails models, when the caller knows them.
    #[serde(default, deserialize_with = "nullable")]
    pub associations: Vec<Association>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new(Dialect::Postgres)
    }
}

impl Schema {
    /// An empty schema of `dialect`.
    pub fn new(dialect: Dialect) -> Schema {
        Schema {
            dialect,
            tables: Vec::new(),
            associations: Vec::new(),
        }
    }

    /// Decodes a schema from JSON text; [`Error::InvalidInput`] when it is not
    /// JSON, not of this shape, or an index key has neither a column nor an
    /// expression (the message says where).
    pub fn from_json(json: &str) -> Result<Schema, Error> {
        let invalid = |message: String| Error::InvalidInput {
            message: format!("schema JSON: {message}"),
        };
        if !json.trim_start().starts_with('{') {
            return Err(invalid(
                "expected an object at the top level ({\"tables\": [...]})".to_owned(),
            ));
        }
        let schema: Schema = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        schema.check_keys().map_err(invalid)?;
        Ok(schema)
    }

    /// Every index key names a column or an expression; the message says
    /// which one does not.
    pub fn check_keys(&self) -> Result<(), String> {
        for table in &self.tables {
            for index in &table.indexes {
                if let Some(position) = index
                    .keys
                    .iter()
                    .position(|k| k.column.is_none() && k.expression.is_none())
                {
                    return Err(format!(
                        "key {position} of index {:?} on table {:?} has neither \"column\" nor \"expression\"",
                        index.name, table.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The schema as JSON text (the shape [`Schema::from_json`] reads).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The table named `name`, if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Each table's position in `tables` by name (the first one, should a
    /// name repeat).
    pub fn positions(&self) -> std::collections::HashMap<&str, usize> {
        self.tables
            .iter()
            .enumerate()
            .rev()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect()
    }
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Table {
    /// The table's name: bare for PostgreSQL's `public` schema (and SQLite's
    /// `main`), `schema.table` otherwise.
    pub name: String,
    /// Estimated row count, when known (negative or missing: unknown).
    #[serde(default, deserialize_with = "count")]
    pub rows: Option<u64>,
    /// Size on disk in bytes (heap, without indexes), when known.
    #[serde(default, deserialize_with = "count")]
    pub size_bytes: Option<u64>,
    /// Columns, in table order.
    #[serde(default, deserialize_with = "nullable")]
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order (empty: none or unknown).
    #[serde(default, deserialize_with = "nullable")]
    pub primary_key: Vec<String>,
    /// Indexes, including the ones that back the primary key and constraints
    /// when the source lists them.
    #[serde(default, deserialize_with = "nullable")]
    pub indexes: Vec<Index>,
    /// Declared foreign keys of this table.
    #[serde(default, deserialize_with = "nullable")]
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// An empty table named `name`.
    pub fn new(name: impl Into<String>) -> Table {
        Table {
            name: name.into(),
            ..Table::default()
        }
    }

    /// The column named `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The SQL type as the database spells it (`bigint`, `character varying`,
    /// `timestamp(6) without time zone`); empty when the DDL gives none.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub sql_type: String,
    /// Whether the column accepts NULL (true when missing).
    #[serde(default = "yes", deserialize_with = "nullable_true")]
    pub null: bool,
    /// The default expression as SQL text, if any.
    #[serde(default, deserialize_with = "scalar_text")]
    pub default: Option<String>,
    /// Estimated number of distinct values (PostgreSQL's `pg_stats.n_distinct`,
    /// made absolute), when known; `null`, missing or negative: unknown. The
    /// index advisor orders equality columns by it.
    #[serde(default, deserialize_with = "count")]
    pub distinct: Option<u64>,
    /// Average width of the column's values in bytes (PostgreSQL's
    /// `pg_stats.avg_width`), when known; `null`, missing or negative:
    /// unknown. The index advisor estimates the size of a new index from it
    /// (else from the type name: [`crate::index::size`]).
    #[serde(default, deserialize_with = "count")]
    pub avg_width: Option<u64>,
}

impl Column {
    /// A nullable column without a default.
    pub fn new(name: impl Into<String>, sql_type: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            sql_type: sql_type.into(),
            null: true,
            default: None,
            distinct: None,
            avg_width: None,
        }
    }
}

/// One index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The index's name.
    pub name: String,
    /// A UNIQUE index.
    #[serde(default, deserialize_with = "nullable")]
    pub unique: bool,
    /// The access method, lower case: `btree` (when missing), `hash`, `gin`,
    /// `gist`, `brin`, `spgist`, MySQL's `fulltext` / `spatial`, or any other
    /// name as given.
    #[serde(default = "btree", deserialize_with = "method")]
    pub method: String,
    /// The predicate of a partial index, as SQL text.
    #[serde(rename = "where", default, deserialize_with = "nullable")]
    pub predicate: Option<String>,
    /// The key columns or expressions, in index order.
    #[serde(default, deserialize_with = "nullable")]
    pub keys: Vec<IndexKey>,
    /// Non-key columns stored in the index (`INCLUDE (...)`).
    #[serde(default, deserialize_with = "nullable")]
    pub include: Vec<String>,
    /// Index scans since statistics were last reset, when known
    /// (PostgreSQL's `pg_stat_user_indexes.idx_scan`).
    #[serde(default, deserialize_with = "count")]
    pub scans: Option<u64>,
    /// Size on disk in bytes, when known.
    #[serde(default, deserialize_with = "count")]
    pub size_bytes: Option<u64>,
    /// The index backs the primary key.
    #[serde(default, deserialize_with = "nullable")]
    pub primary: bool,
    /// The index backs a UNIQUE or EXCLUDE constraint (it cannot be dropped
    /// with `DROP INDEX`).
    #[serde(default, deserialize_with = "nullable")]
    pub constraint: bool,
}

impl Index {
    /// A non-unique btree index on plain columns.
    pub fn on_columns<S: AsRef<str>>(name: impl Into<String>, columns: &[S]) -> Index {
        Index {
            name: name.into(),
            unique: false,
            method: btree(),
            predicate: None,
            keys: columns
                .iter()
                .map(|c| IndexKey::column(c.as_ref()))
                .collect(),
            include: Vec::new(),
            scans: None,
            size_bytes: None,
            primary: false,
            constraint: false,
        }
    }

    /// Whether the access method is btree (MySQL's and SQLite's default too).
    pub fn is_btree(&self) -> bool {
        self.method.is_empty() || self.method.eq_ignore_ascii_case("btree")
    }

    /// Whether it backs the primary key or a constraint, or is unique: such an
    /// index enforces something and is never suggested for removal as
    /// unused or as covered by a wider one.
    pub fn enforces(&self) -> bool {
        self.unique || self.primary || self.constraint
    }
}

/// One key of an index: a column or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    /// The column, for a plain column key.
    #[serde(default, deserialize_with = "nullable")]
    pub column: Option<String>,
    /// The expression as SQL text (`lower((email)::text)`), for an expression key.
    #[serde(default, deserialize_with = "nullable")]
    pub expression: Option<String>,
    /// The operator class, when not the default (`gin_trgm_ops`).
    #[serde(default, deserialize_with = "nullable")]
    pub opclass: Option<String>,
    /// Sort order (ascending when missing).
    #[serde(default, deserialize_with = "nullable")]
    pub order: Order,
}

impl IndexKey {
    /// An ascending key on `column` with the default operator class.
    pub fn column(column: impl Into<String>) -> IndexKey {
        IndexKey {
            column: Some(column.into()),
            expression: None,
            opclass: None,
            order: Order::Asc,
        }
    }

    /// An ascending key on an expression.
    pub fn expression(expression: impl Into<String>) -> IndexKey {
        IndexKey {
            column: None,
            expression: Some(expression.into()),
            opclass: None,
            order: Order::Asc,
        }
    }

    /// The column name or the expression text.
    pub fn text(&self) -> &str {
        self.column
            .as_deref()
            .or(self.expression.as_deref())
            .unwrap_or_default()
    }

    /// The key as an index definition writes it: the text, then the opclass
    /// and `DESC` when they are not the defaults (`name gin_trgm_ops`).
    pub fn definition(&self) -> String {
        let mut text = self.text().to_owned();
        if let Some(opclass) = &self.opclass {
            text = format!("{text} {opclass}");
        }
        if self.order == Order::Desc {
            text.push_str(" DESC");
        }
        text
    }
}

/// Sort order of an index key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Ascending (the default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

impl<'de> Deserialize<'de> for Order {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match name.to_ascii_lowercase().as_str() {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            _ => Err(serde::de::Error::unknown_variant(&name, &["asc", "desc"])),
        }
    }
}

/// A declared foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name, when known.
    #[serde(default, deserialize_with = "nullable")]
    pub name: Option<String>,
    /// The referencing columns of this table, in constraint order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub to_table: String,
    /// The referenced columns (empty: the referenced table's primary key).
    #[serde(default, deserialize_with = "nullable")]
    pub to_columns: Vec<String>,
    /// What deleting a referenced row does; `None` when unknown.
    #[serde(default, deserialize_with = "nullable")]
    pub on_delete: Option<OnDelete>,
}

/// The `ON DELETE` action of a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// `CASCADE`: deletes the referencing rows.
    Cascade,
    /// `SET NULL` (Rails `:nullify`).
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
    /// `RESTRICT`.
    Restrict,
    /// `NO ACTION` (the SQL default).
    NoAction,
}

impl OnDelete {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
            OnDelete::SetDefault => "set_default",
            OnDelete::Restrict => "restrict",
            OnDelete::NoAction => "no_action",
        }
    }

    /// The SQL spelling: `CASCADE`, `SET NULL`, ...
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
            OnDelete::SetDefault => "SET DEFAULT",
            OnDelete::Restrict => "RESTRICT",
            OnDelete::NoAction => "NO ACTION",
        }
    }

    /// Whether deleting a referenced row writes to the referencing table.
    pub fn writes_children(self) -> bool {
        matches!(
            self,
            OnDelete::Cascade | OnDelete::SetNull | OnDelete::SetDefault
        )
    }

    /// Resolves a name: the snake_case names, their SQL spellings and Rails'
    /// `nullify`, case-insensitively.
    pub fn from_name(name: &str) -> Option<OnDelete> {
        let key: String = name
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        match key.as_str() {
            "cascade" => Some(OnDelete::Cascade),
            "set_null" | "nullify" => Some(OnDelete::SetNull),
            "set_default" => Some(OnDelete::SetDefault),
            "restrict" => Some(OnDelete::Restrict),
            "no_action" => Some(OnDelete::NoAction),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for OnDelete {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        OnDelete::from_name(&name).ok_or_else(|| {
            serde::de::Error::unknown_variant(
                &name,
                &[
                    "cascade",
                    "set_null",
                    "set_default",
                    "restrict",
                    "no_action",
                ],
            )
        })
    }
}

/// A `belongs_to` association of a Rails model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    /// The model's table.
    pub table: String,
    /// The foreign key column (`user_id`).
    pub foreign_key: String,
    /// The type column of a polymorphic association (`commentable_type`);
    /// `<prefix>_type` when missing.
    #[serde(default, deserialize_with = "nullable")]
    pub foreign_type: Option<String>,
    /// A polymorphic association (`belongs_to :commentable, polymorphic: true`).
    #[serde(default, deserialize_with = "nullable")]
    pub polymorphic: bool,
    /// The associated table, when not polymorphic and known.
    #[serde(default, deserialize_with = "nullable")]
    pub to_table: Option<String>,
}

fn default_dialect() -> Dialect {
    Dialect::Postgres
}

fn yes() -> bool {
    true
}

fn btree() -> String {
    "btree".to_owned()
}

fn dialect_to_name<S: Serializer>(dialect: &Dialect, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(dialect.name())
}

fn dialect_from_name<'de, D: Deserializer<'de>>(d: D) -> Result<Dialect, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(default_dialect()),
        Some(name) => Dialect::from_name(&name).map_err(serde::de::Error::custom),
    }
}

/// `null` reads as the type's default.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn nullable_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

fn method<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<String>::deserialize(d)? {
        Some(m) if !m.trim().is_empty() => m.trim().to_ascii_lowercase(),
        _ => btree(),
    })
}

/// A count or size: an integer, or a float (PostgreSQL's `reltuples` is a
/// `real`); negative (`-1`: never analyzed) or `null` means unknown.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(d)?;
    Ok(value.and_then(|n| {
        n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                // `as` saturates at u64::MAX; a real count is far below it.
                .map(|f| f.round() as u64)
        })
    }))
}

/// A default value: a string as is, any other scalar as its JSON text.
fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}
