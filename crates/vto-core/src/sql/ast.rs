//! Every match on sqlparser's AST lives here (its AST changes between minor
//! versions; the rest of the crate sees only [`Shape`] and, for DDL, the
//! schema model of [`crate::schema`]).

pub(crate) mod ddl;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, Expr, FromTable, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, InTarget, JoinConstraint, JoinOperator, LimitClause,
    ObjectName, ObjectNamePart, OrderByKind, OrderBySort, Query, Select, SelectItem, SetExpr,
    Statement, TableFactor, TableObject, TableWithJoins, UnaryOperator, UpdateTableFromKind, Value,
    ValueWithSpan, Visit, Visitor,
};

use crate::Dialect;

use super::shape::{
    Bound, Clause, ColumnRef, Direction, JoinCondition, OrderItem, Predicate, PredicateOp, Shape,
    StatementKind, TableRef,
};

/// A name visible in one `SELECT`'s scope: a table (or an alias of one), or a
/// CTE / derived table (`None`: not a real table).
struct ScopeEntry {
    key: String,
    table: Option<String>,
}

struct Walker {
    dialect: Dialect,
    /// The shape depends on a literal the fingerprint erases (a LIKE pattern).
    literal_dependent: bool,
    shape: Shape,
    scopes: Vec<Vec<ScopeEntry>>,
    ctes: Vec<String>,
}

/// Builds the shape of one parsed statement (lints are added by the caller),
/// and says whether it depends on a literal value: such a shape is right for
/// this statement only, not for every statement of its fingerprint.
pub(crate) fn shape_of(stmt: &Statement, dialect: Dialect) -> (Shape, bool) {
    let kind = match stmt {
        Statement::Query(_) => StatementKind::Select,
        Statement::Insert(_) => StatementKind::Insert,
        Statement::Update(_) => StatementKind::Update,
        Statement::Delete(_) => StatementKind::Delete,
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => StatementKind::Transaction,
        _ => StatementKind::Other,
    };
    let mut w = Walker {
        dialect,
        literal_dependent: false,
        shape: Shape::empty(kind),
        scopes: Vec::new(),
        ctes: Vec::new(),
    };
    match stmt {
        Statement::Query(q) => w.query(q, true),
        Statement::Insert(ins) => {
            w.scopes.push(Vec::new());
            if let TableObject::TableName(name) = &ins.table {
                w.add_table(name, None);
            }
            if let Some(source) = &ins.source {
                w.query(source, false);
            }
            w.scopes.pop();
        }
        Statement::Update(up) => {
            w.scopes.push(Vec::new());
            let mut on = Vec::new();
            w.add_table_with_joins(&up.table, &mut on);
            if let Some(
                UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
            ) = &up.from
            {
                for twj in from {
                    w.add_table_with_joins(twj, &mut on);
                }
            }
            w.conditions(&on, up.selection.as_ref());
            w.scopes.pop();
        }
        Statement::Delete(del) => {
            w.scopes.push(Vec::new());
            let mut on = Vec::new();
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &del.from;
            for twj in from.iter().chain(del.using.iter().flatten()) {
                w.add_table_with_joins(twj, &mut on);
            }
            w.conditions(&on, del.selection.as_ref());
            w.scopes.pop();
        }
        _ => {}
    }
    (w.shape, w.literal_dependent)
}

fn object_name(name: &ObjectName) -> String {
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => id.value.as_str(),
            ObjectNamePart::Function(f) => f.name.value.as_str(),
        })
        .collect();
    parts.join(".")
}

/// `col`, `t.col`, `schema.t.col`, `(col)`: the (qualifier, column) of a plain column.
fn plain_column(expr: &Expr) -> Option<(Option<&str>, &str)> {
    match expr {
        Expr::Identifier(id) => Some((None, id.value.as_str())),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => Some((
            Some(parts[parts.len() - 2].value.as_str()),
            parts[parts.len() - 1].value.as_str(),
        )),
        Expr::Nested(inner) => plain_column(inner),
        _ => None,
    }
}

/// What an expression mentions outside its subqueries: columns, function names,
/// and the subqueries themselves (outermost ones only).
#[derive(Default)]
struct Mentions {
    /// Whether to keep (clone) the subqueries; only `subqueries_in` needs them.
    with_queries: bool,
    depth: usize,
    columns: Vec<(Option<String>, String)>,
    functions: Vec<String>,
    queries: Vec<Query>,
}

impl Visitor for Mentions {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 && self.with_queries {
            self.queries.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            match expr {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                    if let Some((q, c)) = plain_column(expr) {
                        self.columns.push((q.map(str::to_owned), c.to_owned()));
                    }
                }
                Expr::Function(f) => self.functions.push(object_name(&f.name)),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

fn mentions(expr: &Expr, with_queries: bool) -> Mentions {
    let mut m = Mentions {
        with_queries,
        ..Mentions::default()
    };
    let _ = expr.visit(&mut m);
    m
}

/// Every column mentioned in `expr`, outside subqueries.
fn columns_in(expr: &Expr) -> Vec<(Option<String>, String)> {
    mentions(expr, false).columns
}

fn is_value(expr: &Expr) -> bool {
    matches!(expr, Expr::Subquery(_)) || columns_in(expr).is_empty()
}

fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::DoubleQuotedString(s)
            | Value::NationalStringLiteral(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a LIKE pattern starts with a wildcard: `'%x'`, `'%' || ?`, `CONCAT('%', ?)`.
fn leading_wildcard(pattern: &Expr) -> bool {
    match pattern {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            ..
        } => leading_wildcard(left),
        Expr::Function(f) if object_name(&f.name).eq_ignore_ascii_case("concat") => match &f.args {
            FunctionArguments::List(list) => match list.args.first() {
                Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) => leading_wildcard(first),
                _ => false,
            },
            _ => false,
        },
        Expr::Nested(inner) => leading_wildcard(inner),
        // `LIKE ANY (ARRAY['%a', 'b%'])`: one leading wildcard is enough to scan.
        Expr::Array(array) => array.elem.iter().any(leading_wildcard),
        _ => string_literal(pattern).is_some_and(|s| s.starts_with('%') || s.starts_with('_')),
    }
}

/// A LIMIT / OFFSET value: `None` when it means "no limit" (`NULL`, or a
/// negative number, which SQLite reads as unlimited).
fn bound(expr: &Expr) -> Option<Bound> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => Some(n.parse().map_or(Bound::Bind, Bound::Literal)),
            Value::Null => None,
            _ => Some(Bound::Bind),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            ..
        } => None,
        _ => Some(Bound::Bind),
    }
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

fn is_aggregate(function: &str) -> bool {
    ["COUNT", "SUM", "AVG", "MIN", "MAX"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(function))
}

impl Walker {
    fn query(&mut self, q: &Query, outer: bool) {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.push(cte.alias.name.value.clone());
                self.shape.subqueries += 1;
                self.query(&cte.query, false);
            }
        }
        self.set_expr(&q.body, if outer { Some(q) } else { None });
    }

    /// `tail` is the enclosing query when this is the outermost body: its ORDER BY
    /// and LIMIT are read while this body's tables are in scope.
    fn set_expr(&mut self, body: &SetExpr, tail: Option<&Query>) {
        match body {
            SetExpr::Select(select) => return self.select(select, tail),
            SetExpr::Query(q) => return self.query(q, tail.is_some()),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, None);
                self.set_expr(right, None);
            }
            _ => {}
        }
        if let Some(q) = tail {
            self.query_tail(q);
        }
    }

    fn select(&mut self, s: &Select, tail: Option<&Query>) {
        self.scopes.push(Vec::new());
        let mut on = Vec::new();
        for twj in &s.from {
            self.add_table_with_joins(twj, &mut on);
        }
        for item in &s.projection {
            if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                self.aggregates(e);
                self.subqueries_in(e);
            }
        }
        self.conditions(&on, s.selection.as_ref());
        if let Some(having) = &s.having {
            self.aggregates(having);
            self.predicate(having, Clause::Having, false);
        }
        // SELECT *, DISTINCT, GROUP BY, ORDER BY and LIMIT of the outermost query only.
        if let Some(q) = tail {
            self.shape.select_star = s.projection.iter().any(|item| {
                matches!(
                    item,
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                )
            });
            self.shape.distinct = s.distinct.is_some();
            if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
                for e in exprs {
                    if let Some((q, c)) = plain_column(e) {
                        let col = self.resolve(q, c);
                        self.shape.group_by.push(col);
                    }
                }
            }
            self.query_tail(q);
        }
        self.scopes.pop();
    }

    fn conditions(&mut self, on: &[Expr], selection: Option<&Expr>) {
        for e in on {
            self.predicate(e, Clause::Join, false);
        }
        if let Some(e) = selection {
            self.predicate(e, Clause::Where, false);
        }
    }

    fn query_tail(&mut self, q: &Query) {
        if let Some(order_by) = &q.order_by {
            if let OrderByKind::Expressions(items) = &order_by.kind {
                for item in items {
                    let direction = match item.options.sort {
                        Some(OrderBySort::Desc) => Direction::Desc,
                        _ => Direction::Asc,
                    };
                    let order = match plain_column(&item.expr) {
                        Some((q, c)) => {
                            let col = self.resolve(q, c);
                            OrderItem {
                                table: col.table,
                                column: Some(col.column),
                                expression: None,
                                direction,
                            }
                        }
                        None => OrderItem {
                            table: None,
                            column: None,
                            expression: Some(self.expression_text(&item.expr)),
                            direction,
                        },
                    };
                    self.shape.order_by.push(order);
                }
            }
        }
        let (limit, offset) = match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                (limit.as_ref(), offset.as_ref().map(|o| &o.value))
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
            None => (None, None),
        };
        // FETCH FIRST n ROWS ONLY is the standard spelling of LIMIT n.
        let limit = limit.or(q.fetch.as_ref().and_then(|f| f.quantity.as_ref()));
        for (expr, slot) in [
            (limit, &mut self.shape.limit),
            (offset, &mut self.shape.offset),
        ] {
            if let Some(expr) = expr {
                *slot = bound(expr);
                // "No limit" spelled as a literal: a statement of the same
                // fingerprint may spell a real limit there.
                self.literal_dependent |= slot.is_none();
            }
        }
    }

    /// An expression as text with every literal replaced by `?` before it is
    /// printed (printing could re-quote a string so that a tokenizer misreads
    /// it), normalized, and cut to a bounded length.
    fn expression_text(&self, expr: &Expr) -> String {
        const MAX_CHARS: usize = 200;
        let mut expr = expr.clone();
        let _ = visit_expressions_mut(&mut expr, |e: &mut Expr| {
            if matches!(e, Expr::Value(_) | Expr::TypedString(_) | Expr::Interval(_)) {
                // `$1` reads as a bind in every dialect (`?` is an operator in PostgreSQL).
                *e = Expr::Value(Value::Placeholder("$1".to_owned()).with_empty_span());
            }
            ControlFlow::<()>::Continue(())
        });
        let mut text = super::normalize(expr.to_string().as_bytes(), self.dialect);
        if let Some((cut, _)) = text.char_indices().nth(MAX_CHARS) {
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    fn add_table_with_joins(&mut self, twj: &TableWithJoins, on: &mut Vec<Expr>) {
        self.add_factor(&twj.relation, on);
        for join in &twj.joins {
            self.add_factor(&join.relation, on);
            if let Some(JoinConstraint::On(e)) = join_constraint(&join.join_operator) {
                on.push(e.clone());
            }
        }
    }

    fn add_factor(&mut self, factor: &TableFactor, on: &mut Vec<Expr>) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                self.add_table(name, alias.as_ref().map(|a| a.name.value.as_str()))
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.shape.subqueries += 1;
                self.query(subquery, false);
                if let (Some(alias), Some(scope)) = (alias, self.scopes.last_mut()) {
                    scope.push(ScopeEntry {
                        key: alias.name.value.clone(),
                        table: None,
                    });
                }
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.add_table_with_joins(table_with_joins, on),
            _ => {}
        }
    }

    fn add_table(&mut self, name: &ObjectName, alias: Option<&str>) {
        let table = object_name(name);
        let Some(scope) = self.scopes.last_mut() else {
            return;
        };
        if self.ctes.iter().any(|c| c.eq_ignore_ascii_case(&table)) {
            scope.push(ScopeEntry {
                key: alias.unwrap_or(&table).to_owned(),
                table: None,
            });
            return;
        }
        let entry = TableRef {
            name: table.clone(),
            alias: alias.map(str::to_owned),
        };
        if !self.shape.tables.contains(&entry) {
            self.shape.tables.push(entry);
        }
        if let Some(alias) = alias {
            scope.push(ScopeEntry {
                key: alias.to_owned(),
                table: Some(table.clone()),
            });
        }
        let short = table.rsplit('.').next().unwrap_or(&table).to_owned();
        scope.push(ScopeEntry {
            key: short,
            table: Some(table),
        });
    }

    /// Resolves a column's qualifier through the scopes, innermost first; an
    /// unqualified column belongs to the innermost scope's table when it has one.
    fn resolve(&self, qualifier: Option<&str>, column: &str) -> ColumnRef {
        let table = match qualifier {
            Some(q) => self
                .scopes
                .iter()
                .rev()
                .flatten()
                .find(|e| e.key.eq_ignore_ascii_case(q))
                .map_or_else(|| Some(q.to_owned()), |e| e.table.clone()),
            // Every name in scope (table, alias) must stand for the same real table.
            None => self.scopes.last().and_then(|scope| {
                let first = scope.first()?.table.as_ref()?;
                scope
                    .iter()
                    .all(|e| e.table.as_ref() == Some(first))
                    .then(|| first.clone())
            }),
        };
        ColumnRef {
            table,
            column: column.to_owned(),
        }
    }

    fn push(&mut self, col: ColumnRef, op: PredicateOp, clause: Clause) {
        let p = Predicate {
            table: col.table,
            column: col.column,
            op,
            clause,
        };
        if !self.shape.predicates.contains(&p) {
            self.shape.predicates.push(p);
        }
    }

    /// Records a filter on `subject`: a plain column gets `op`, a column inside a
    /// function or operator gets `function_wrapped`, anything else nothing.
    fn filter(&mut self, subject: &Expr, op: PredicateOp, clause: Clause) {
        if let Some((q, c)) = plain_column(subject) {
            let col = self.resolve(q, c);
            self.push(col, op, clause);
            return;
        }
        let m = mentions(subject, false);
        // `HAVING SUM(x) > ?` filters groups, not rows: no index question there.
        if m.functions.iter().any(|f| is_aggregate(f)) {
            return;
        }
        if let [(q, c)] = m.columns.as_slice() {
            let col = self.resolve(q.as_deref(), c);
            self.push(col, PredicateOp::FunctionWrapped, clause);
        }
    }

    fn resolved_columns(&self, expr: &Expr) -> BTreeSet<(Option<String>, String)> {
        columns_in(expr)
            .iter()
            .map(|(q, c)| {
                let r = self.resolve(q.as_deref(), c);
                (r.table, r.column)
            })
            .collect()
    }

    fn predicate(&mut self, expr: &Expr, clause: Clause, negated: bool) {
        let eq_or_not = |negated: bool, op| if negated { PredicateOp::NotEq } else { op };
        match expr {
            Expr::Nested(inner) => self.predicate(inner, clause, negated),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => self.predicate(expr, clause, !negated),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                self.predicate(left, clause, negated);
                self.predicate(right, clause, negated);
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                let (l, r) = (self.resolved_columns(left), self.resolved_columns(right));
                if !l.is_empty() && !r.is_empty() && l != r {
                    self.shape.or_across_columns = true;
                }
                self.predicate(left, clause, negated);
                self.predicate(right, clause, negated);
            }
            Expr::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Eq | BinaryOperator::Spaceship => {
                        eq_or_not(negated, PredicateOp::Eq)
                    }
                    BinaryOperator::NotEq => PredicateOp::NotEq,
                    BinaryOperator::Gt
                    | BinaryOperator::Lt
                    | BinaryOperator::GtEq
                    | BinaryOperator::LtEq => eq_or_not(negated, PredicateOp::Range),
                    _ => {
                        self.subqueries_in(expr);
                        return;
                    }
                };
                match (plain_column(left), plain_column(right)) {
                    (Some((lq, lc)), Some((rq, rc))) if op == PredicateOp::Eq => {
                        let join = JoinCondition {
                            left: self.resolve(lq, lc),
                            right: self.resolve(rq, rc),
                        };
                        if !self.shape.joins.contains(&join) {
                            self.shape.joins.push(join);
                        }
                    }
                    _ if is_value(right) => self.filter(left, op, clause),
                    _ if is_value(left) => self.filter(right, op, clause),
                    _ => {}
                }
                self.subqueries_in(left);
                self.subqueries_in(right);
            }
            Expr::In {
                expr: subject,
                target,
                negated: not_in,
                ..
            } => {
                let negated = negated ^ *not_in;
                self.filter(subject, eq_or_not(negated, PredicateOp::In), clause);
                if let InTarget::Subquery(q) = target {
                    if negated {
                        self.shape.not_in_subquery = true;
                    }
                    self.shape.subqueries += 1;
                    self.query(q, false);
                }
            }
            Expr::Between {
                expr: subject,
                negated: not_between,
                ..
            } => {
                let op = eq_or_not(negated ^ *not_between, PredicateOp::Range);
                self.filter(subject, op, clause);
            }
            Expr::Like {
                negated: not_like,
                expr: subject,
                pattern,
                ..
            }
            | Expr::ILike {
                negated: not_like,
                expr: subject,
                pattern,
                ..
            } => {
                // Only a bound pattern is the same for every statement of the fingerprint.
                self.literal_dependent |= !matches!(
                    **pattern,
                    Expr::Value(ValueWithSpan {
                        value: Value::Placeholder(_),
                        ..
                    })
                );
                let op = if negated ^ *not_like {
                    PredicateOp::NotEq
                } else if leading_wildcard(pattern) {
                    PredicateOp::LikeContains
                } else {
                    PredicateOp::LikePrefix
                };
                self.filter(subject, op, clause);
            }
            Expr::IsNull(subject) => {
                self.filter(subject, eq_or_not(negated, PredicateOp::IsNull), clause)
            }
            Expr::IsNotNull(subject) => {
                let op = if negated {
                    PredicateOp::IsNull
                } else {
                    PredicateOp::NotEq
                };
                self.filter(subject, op, clause);
            }
            Expr::IsTrue(subject) | Expr::IsFalse(subject) => {
                self.filter(subject, eq_or_not(negated, PredicateOp::Eq), clause)
            }
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                ..
            } => self.filter(left, eq_or_not(negated, PredicateOp::In), clause),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                self.filter(expr, eq_or_not(negated, PredicateOp::Eq), clause)
            }
            _ => self.subqueries_in(expr),
        }
    }

    /// Walks the subqueries inside an expression that is not itself a predicate.
    fn subqueries_in(&mut self, expr: &Expr) {
        for q in mentions(expr, true).queries {
            self.shape.subqueries += 1;
            self.query(&q, false);
        }
    }

    fn aggregates(&mut self, expr: &Expr) {
        for name in mentions(expr, false).functions {
            let name = name.to_ascii_uppercase();
            if is_aggregate(&name) && !self.shape.aggregates.contains(&name) {
                self.shape.aggregates.push(name);
            }
        }
    }
}
