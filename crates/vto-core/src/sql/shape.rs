//! The structure of one statement, as the detectors and the index advisor need it.
//! Plain data: no parser types leak out of the core.

use serde::Serialize;

/// What kind of statement it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// `SELECT` (including `WITH ... SELECT` and set operations).
    Select,
    /// `INSERT` (including upserts).
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`.
    Transaction,
    /// Anything else (DDL, `SET`, `SHOW`, `EXPLAIN`, ...).
    Other,
}

impl StatementKind {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Select => "select",
            StatementKind::Insert => "insert",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Transaction => "transaction",
            StatementKind::Other => "other",
        }
    }
}

/// A table the statement reads or writes, with its alias when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRef {
    /// Table name as the database knows it (quotes removed; `schema.table` when qualified).
    pub name: String,
    /// The alias in this statement, if any.
    pub alias: Option<String>,
}

/// A column, resolved to its table when that is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnRef {
    /// The table (aliases resolved); `None` when it cannot be known.
    pub table: Option<String>,
    /// The column name.
    pub column: String,
}

/// How a predicate filters a column; decides which index can serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PredicateOp {
    /// `col = value`
    Eq,
    /// `col IN (...)`, `col = ANY(...)`
    In,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`
    Range,
    /// `LIKE 'abc%'` (or a bound pattern): a btree prefix can serve it.
    LikePrefix,
    /// `LIKE '%abc'`: no btree index can serve it.
    LikeContains,
    /// `IS NULL`
    IsNull,
    /// `<>`, `!=`, `NOT IN`, `IS NOT NULL`
    NotEq,
    /// The column is inside a function or operator: `LOWER(email) = ?`.
    FunctionWrapped,
}

impl PredicateOp {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            PredicateOp::Eq => "eq",
            PredicateOp::In => "in",
            PredicateOp::Range => "range",
            PredicateOp::LikePrefix => "like_prefix",
            PredicateOp::LikeContains => "like_contains",
            PredicateOp::IsNull => "is_null",
            PredicateOp::NotEq => "not_eq",
            PredicateOp::FunctionWrapped => "function_wrapped",
        }
    }
}

/// The clause a predicate sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clause {
    /// `WHERE`
    Where,
    /// A `JOIN ... ON` condition that compares a column to a value.
    Join,
    /// `HAVING`
    Having,
}

impl Clause {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Clause::Where => "where",
            Clause::Join => "join",
            Clause::Having => "having",
        }
    }
}

/// A filter on one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Predicate {
    /// The table (aliases resolved); `None` when ambiguous.
    pub table: Option<String>,
    /// The column.
    pub column: String,
    /// How it is compared.
    pub op: PredicateOp,
    /// Where it appears.
    pub clause: Clause,
}

/// An equality between two columns: a join condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinCondition {
    /// One side.
    pub left: ColumnRef,
    /// The other side.
    pub right: ColumnRef,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Ascending (the default).
    Asc,
    /// Descending.
    Desc,
}

/// One `ORDER BY` item: a column, or an expression such as `RANDOM()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderItem {
    /// The table of the column, when it is a column and resolvable.
    pub table: Option<String>,
    /// The column, when the item is a plain column.
    pub column: Option<String>,
    /// The expression, normalized (literals as `?`), when the item is not a plain column.
    pub expression: Option<String>,
    /// Direction.
    pub direction: Direction,
}

/// A `LIMIT` or `OFFSET` value. Serialized as the number, or `"?"` for a bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A literal number in the SQL.
    Literal(u64),
    /// A bind parameter or an expression.
    Bind,
}

impl Serialize for Bound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Bound::Literal(n) => s.serialize_u64(*n),
            Bound::Bind => s.serialize_str("?"),
        }
    }
}

/// A problem visible in the query text alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// Stable code, e.g. `leading_wildcard_like`.
    pub code: &'static str,
    /// What was found, naming the column or value.
    pub message: String,
    /// Why it hurts.
    pub why: &'static str,
}

/// The structure of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// Statement kind.
    pub kind: StatementKind,
    /// Tables read or written, in order of appearance, without CTE names.
    pub tables: Vec<TableRef>,
    /// Column filters in WHERE, JOIN ... ON and HAVING, subqueries included.
    pub predicates: Vec<Predicate>,
    /// Column-to-column equalities (join conditions).
    pub joins: Vec<JoinCondition>,
    /// `ORDER BY` items of the outermost query.
    pub order_by: Vec<OrderItem>,
    /// `GROUP BY` columns of the outermost query.
    pub group_by: Vec<ColumnRef>,
    /// `LIMIT` of the outermost query.
    pub limit: Option<Bound>,
    /// `OFFSET` of the outermost query.
    pub offset: Option<Bound>,
    /// `SELECT *` or `SELECT t.*` in the outermost query.
    pub select_star: bool,
    /// Aggregate functions used (`COUNT`, `SUM`, `AVG`, `MIN`, `MAX`), upper case.
    pub aggregates: Vec<String>,
    /// Number of subqueries (derived tables, `IN (SELECT ...)`, `EXISTS`, scalar, CTEs).
    pub subqueries: usize,
    /// `SELECT DISTINCT` in the outermost query.
    pub distinct: bool,
    /// An `OR` whose branches filter different columns.
    pub or_across_columns: bool,
    /// A `NOT IN (SELECT ...)`.
    pub not_in_subquery: bool,
    /// Problems visible in the text.
    pub lints: Vec<Lint>,
}

impl Shape {
    pub(crate) fn empty(kind: StatementKind) -> Self {
        Shape {
            kind,
            tables: Vec::new(),
            predicates: Vec::new(),
            joins: Vec::new(),
            order_by: Vec::new(),
            group_by: Vec::new(),
            limit: None,
            offset: None,
            select_star: false,
            aggregates: Vec::new(),
            subqueries: 0,
            distinct: false,
            or_across_columns: false,
            not_in_subquery: false,
            lints: Vec::new(),
        }
    }
}
