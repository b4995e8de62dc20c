//! Converts a core `Shape` into the Hash (string keys) that `SQL.analyze` returns.

use magnus::{prelude::*, Error, IntoValue, RArray, RHash, Ruby, Value};
use vto_core::sql::shape::{Bound, ColumnRef, Shape};

fn opt_str(ruby: &Ruby, s: &Option<String>) -> Value {
    match s {
        Some(s) => ruby.str_new(s).as_value(),
        None => ruby.qnil().as_value(),
    }
}

fn bound(ruby: &Ruby, b: Option<Bound>) -> Value {
    match b {
        Some(Bound::Literal(n)) => n.into_value_with(ruby),
        Some(Bound::Bind) => ruby.str_new("?").as_value(),
        None => ruby.qnil().as_value(),
    }
}

fn column(ruby: &Ruby, c: &ColumnRef) -> Result<RHash, Error> {
    let h = ruby.hash_new();
    h.aset("table", opt_str(ruby, &c.table))?;
    h.aset("column", c.column.as_str())?;
    Ok(h)
}

fn array<T>(
    ruby: &Ruby,
    items: &[T],
    f: impl Fn(&T) -> Result<Value, Error>,
) -> Result<RArray, Error> {
    let a = ruby.ary_new_capa(items.len());
    for item in items {
        a.push(f(item)?)?;
    }
    Ok(a)
}

pub fn to_hash(ruby: &Ruby, s: &Shape) -> Result<RHash, Error> {
    let h = ruby.hash_new();
    h.aset("kind", s.kind.as_str())?;
    h.aset(
        "tables",
        array(ruby, &s.tables, |t| {
            let th = ruby.hash_new();
            th.aset("name", t.name.as_str())?;
            th.aset("alias", opt_str(ruby, &t.alias))?;
            Ok(th.as_value())
        })?,
    )?;
    h.aset(
        "predicates",
        array(ruby, &s.predicates, |p| {
            let ph = ruby.hash_new();
            ph.aset("table", opt_str(ruby, &p.table))?;
            ph.aset("column", p.column.as_str())?;
            ph.aset("op", p.op.as_str())?;
            ph.aset("clause", p.clause.as_str())?;
            Ok(ph.as_value())
        })?,
    )?;
    h.aset(
        "joins",
        array(ruby, &s.joins, |j| {
            let jh = ruby.hash_new();
            jh.aset("left", column(ruby, &j.left)?)?;
            jh.aset("right", column(ruby, &j.right)?)?;
            Ok(jh.as_value())
        })?,
    )?;
    h.aset(
        "order_by",
        array(ruby, &s.order_by, |o| {
            let oh = ruby.hash_new();
            oh.aset("table", opt_str(ruby, &o.table))?;
            oh.aset("column", opt_str(ruby, &o.column))?;
            oh.aset("expression", opt_str(ruby, &o.expression))?;
            oh.aset(
                "direction",
                match o.direction {
                    vto_core::sql::shape::Direction::Asc => "asc",
                    vto_core::sql::shape::Direction::Desc => "desc",
                },
            )?;
            Ok(oh.as_value())
        })?,
    )?;
    h.aset(
        "group_by",
        array(ruby, &s.group_by, |c| Ok(column(ruby, c)?.as_value()))?,
    )?;
    h.aset("limit", bound(ruby, s.limit))?;
    h.aset("offset", bound(ruby, s.offset))?;
    h.aset("select_star", s.select_star)?;
    h.aset(
        "aggregates",
        array(ruby, &s.aggregates, |a| Ok(ruby.str_new(a).as_value()))?,
    )?;
    h.aset("subqueries", s.subqueries)?;
    h.aset("distinct", s.distinct)?;
    h.aset("or_across_columns", s.or_across_columns)?;
    h.aset("not_in_subquery", s.not_in_subquery)?;
    h.aset(
        "lints",
        array(ruby, &s.lints, |l| {
            let lh = ruby.hash_new();
            lh.aset("code", l.code)?;
            lh.aset("message", l.message.as_str())?;
            lh.aset("why", l.why)?;
            Ok(lh.as_value())
        })?,
    )?;
    Ok(h)
}
