//! DDL statements (`CREATE TABLE`, `CREATE INDEX`, `ALTER TABLE ... ADD`) as
//! the schema model's plain data. The only place that matches on sqlparser's
//! DDL types; `crate::schema` splits the input and merges what this returns.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable, DataType, Expr,
    ForeignKeyConstraint, Ident, IndexColumn, IndexOption, IndexType, ObjectName, ObjectNamePart,
    OrderBySort, ReferentialAction, Statement, TableConstraint, Value,
};
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::schema::{Column, ForeignKey, Index, IndexKey, OnDelete, Order};
use crate::sql::token::{TokenKind, Tokenizer};
use crate::Dialect;

/// What one DDL statement says about the schema.
#[derive(Debug)]
pub(crate) enum DdlItem {
    /// `CREATE TABLE` or `ALTER TABLE ... ADD ...`.
    Table(TableChange),
    /// `CREATE INDEX`.
    Index {
        /// The indexed table.
        table: String,
        /// The index.
        index: Index,
    },
    /// Anything else: nothing for the schema model.
    Other,
}

/// Columns and constraints that a `CREATE TABLE` defines or an `ALTER TABLE` adds.
#[derive(Debug, Default)]
pub(crate) struct TableChange {
    /// `CREATE TABLE` (true) or `ALTER TABLE` (false).
    pub create: bool,
    /// The table.
    pub table: String,
    /// Column definitions, in order.
    pub columns: Vec<Column>,
    /// The primary key: constraint name (if given) and columns.
    pub primary_key: Option<(Option<String>, Vec<String>)>,
    /// Indexes that constraints define (`UNIQUE`, `EXCLUDE`, MySQL `KEY`);
    /// an empty name when the DDL gives none.
    pub indexes: Vec<Index>,
    /// Foreign keys, inline and table-level.
    pub foreign_keys: Vec<ForeignKey>,
    /// `ADD CONSTRAINT c {PRIMARY KEY | UNIQUE} USING INDEX i`: (index, primary).
    pub promoted: Vec<(String, bool)>,
}

/// Parses one statement's text. `Err` carries the parser's message (not yet
/// redacted).
pub(crate) fn parse_ddl(
    sql: &str,
    dialect: Dialect,
    recursion_limit: usize,
) -> Result<Vec<DdlItem>, String> {
    let parser_dialect: &dyn ParserDialect = match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Mysql => &MySqlDialect {},
        Dialect::Sqlite => &SQLiteDialect {},
    };
    let statements = Parser::new(parser_dialect)
        .with_recursion_limit(recursion_limit)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())?;
    Ok(statements.iter().map(|s| item(s, dialect)).collect())
}

fn item(stmt: &Statement, dialect: Dialect) -> DdlItem {
    match stmt {
        Statement::CreateTable(create) => DdlItem::Table(create_table(create, dialect)),
        Statement::CreateIndex(create) => create_index(create, dialect),
        Statement::AlterTable(alter) => {
            let mut change = TableChange {
                create: false,
                table: relation_name(&alter.name, dialect),
                ..TableChange::default()
            };
            for op in &alter.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint, .. } => {
                        table_constraint(&mut change, constraint, dialect)
                    }
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        column(&mut change, column_def, dialect)
                    }
                    _ => {}
                }
            }
            DdlItem::Table(change)
        }
        _ => DdlItem::Other,
    }
}

fn create_table(create: &CreateTable, dialect: Dialect) -> TableChange {
    let mut change = TableChange {
        create: true,
        table: relation_name(&create.name, dialect),
        ..TableChange::default()
    };
    for def in &create.columns {
        column(&mut change, def, dialect);
    }
    for constraint in &create.constraints {
        table_constraint(&mut change, constraint, dialect);
    }
    change
}

fn column(change: &mut TableChange, def: &ColumnDef, dialect: Dialect) {
    let name = ident(&def.name, dialect);
    let sql_type = match &def.data_type {
        DataType::Unspecified => String::new(),
        other => other.to_string().to_lowercase(),
    };
    let mut col = Column::new(name.clone(), sql_type);
    for option in &def.options {
        let constraint_name = option.name.as_ref().map(|n| ident(n, dialect));
        match &option.option {
            ColumnOption::NotNull => col.null = false,
            ColumnOption::Null => col.null = true,
            // `DEFAULT NULL` (MySQL writes it for every nullable column) is no default.
            ColumnOption::Default(Expr::Value(v)) if v.value == Value::Null => col.default = None,
            ColumnOption::Default(expr) => {
                col.default = Some(expression_text(&expr.to_string(), dialect))
            }
            ColumnOption::PrimaryKey(pk) => {
                col.null = false;
                let pk_name =
                    constraint_name.or_else(|| pk.name.as_ref().map(|n| ident(n, dialect)));
                change.primary_key = Some((pk_name, vec![name.clone()]));
            }
            ColumnOption::Unique(unique) => {
                let mut index = Index::on_columns(
                    constraint_name
                        .or_else(|| unique.name.as_ref().map(|n| ident(n, dialect)))
                        .unwrap_or_default(),
                    &[name.as_str()],
                );
                index.unique = true;
                index.constraint = dialect != Dialect::Mysql;
                change.indexes.push(index);
            }
            ColumnOption::ForeignKey(fk) => {
                let mut key = foreign_key(fk, dialect);
                key.columns = vec![name.clone()];
                key.name = constraint_name.or(key.name);
                change.foreign_keys.push(key);
            }
            _ => {}
        }
    }
    change.columns.push(col);
}

fn table_constraint(change: &mut TableChange, constraint: &TableConstraint, dialect: Dialect) {
    let name_of = |n: &Option<Ident>| n.as_ref().map(|n| ident(n, dialect));
    match constraint {
        TableConstraint::PrimaryKey(pk) => {
            let columns = pk
                .columns
                .iter()
                .map(|c| index_key(c, dialect).text().to_owned())
                .collect();
            change.primary_key = Some((name_of(&pk.name).or(name_of(&pk.index_name)), columns));
        }
        TableConstraint::Unique(unique) => {
            let mut index = new_index(
                name_of(&unique.index_name).or(name_of(&unique.name)),
                &unique.columns,
                method_of(unique.index_type.as_ref(), &unique.index_options),
                dialect,
            );
            index.unique = true;
            // MySQL's UNIQUE KEY is a plain index (DROP INDEX removes it).
            index.constraint = dialect != Dialect::Mysql;
            index.include = unique.include.iter().map(|i| ident(i, dialect)).collect();
            change.indexes.push(index);
        }
        TableConstraint::ForeignKey(fk) => change.foreign_keys.push(foreign_key(fk, dialect)),
        TableConstraint::Index(ix) => change.indexes.push(new_index(
            name_of(&ix.name),
            &ix.columns,
            method_of(ix.index_type.as_ref(), &ix.index_options),
            dialect,
        )),
        TableConstraint::FulltextOrSpatial(ft) => change.indexes.push(new_index(
            name_of(&ft.opt_index_name),
            &ft.columns,
            if ft.fulltext { "fulltext" } else { "spatial" }.to_owned(),
            dialect,
        )),
        TableConstraint::Exclude(ex) => {
            let mut index =
                Index::on_columns(name_of(&ex.name).unwrap_or_default(), &[] as &[&str]);
            index.keys = ex
                .elements
                .iter()
                .map(|e| index_key(&e.column, dialect))
                .collect();
            index.method = ex
                .index_method
                .as_ref()
                .map_or_else(|| "btree".to_owned(), |m| m.value.to_ascii_lowercase());
            index.include = ex.include.iter().map(|i| ident(i, dialect)).collect();
            index.predicate = ex.where_clause.as_ref().map(|w| w.to_string());
            index.constraint = true;
            change.indexes.push(index);
        }
        TableConstraint::PrimaryKeyUsingIndex(using) => change
            .promoted
            .push((ident(&using.index_name, dialect), true)),
        TableConstraint::UniqueUsingIndex(using) => change
            .promoted
            .push((ident(&using.index_name, dialect), false)),
        TableConstraint::Check(_) => {}
    }
}

fn new_index(
    name: Option<String>,
    columns: &[IndexColumn],
    method: String,
    dialect: Dialect,
) -> Index {
    let mut index = Index::on_columns(name.unwrap_or_default(), &[] as &[&str]);
    index.keys = columns.iter().map(|c| index_key(c, dialect)).collect();
    index.method = method;
    index
}

fn create_index(create: &CreateIndex, dialect: Dialect) -> DdlItem {
    let name = create
        .name
        .as_ref()
        .and_then(|n| n.0.last())
        .map(|part| part_name(part, dialect))
        .unwrap_or_default();
    let mut index = new_index(
        Some(name),
        &create.columns,
        method_of(create.using.as_ref(), &[]),
        dialect,
    );
    if create.using.is_none() {
        // MySQL writes `USING BTREE` after the key list.
        index.method = create
            .index_options
            .iter()
            .find_map(|o| match o {
                IndexOption::Using(t) => Some(method_of(Some(t), &[])),
                IndexOption::Comment(_) => None,
            })
            .unwrap_or(index.method);
    }
    index.unique = create.unique;
    index.include = create.include.iter().map(|i| ident(i, dialect)).collect();
    index.predicate = create.predicate.as_ref().map(|p| p.to_string());
    DdlItem::Index {
        table: relation_name(&create.table_name, dialect),
        index,
    }
}

fn method_of(using: Option<&IndexType>, options: &[IndexOption]) -> String {
    let using = using.or_else(|| {
        options.iter().find_map(|o| match o {
            IndexOption::Using(t) => Some(t),
            IndexOption::Comment(_) => None,
        })
    });
    match using {
        None | Some(IndexType::BTree) => "btree".to_owned(),
        Some(IndexType::Hash) => "hash".to_owned(),
        Some(IndexType::GIN) => "gin".to_owned(),
        Some(IndexType::GiST) => "gist".to_owned(),
        Some(IndexType::SPGiST) => "spgist".to_owned(),
        Some(IndexType::BRIN) => "brin".to_owned(),
        Some(IndexType::Bloom) => "bloom".to_owned(),
        Some(IndexType::Custom(name)) => name.value.to_ascii_lowercase(),
    }
}

fn index_key(col: &IndexColumn, dialect: Dialect) -> IndexKey {
    let mut expr = &col.column.expr;
    // `((name))` is the plain column for PostgreSQL too.
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    let mut key = match expr {
        Expr::Identifier(id) => IndexKey::column(ident(id, dialect)),
        _ => IndexKey::expression(expression_text(&col.column.expr.to_string(), dialect)),
    };
    key.opclass = col
        .operator_class
        .as_ref()
        .map(|o| opclass_name(o, dialect));
    key.order = match col.column.options.sort {
        Some(OrderBySort::Desc) => Order::Desc,
        _ => Order::Asc,
    };
    key
}

fn foreign_key(fk: &ForeignKeyConstraint, dialect: Dialect) -> ForeignKey {
    ForeignKey {
        name: fk.name.as_ref().map(|n| ident(n, dialect)),
        columns: fk.columns.iter().map(|c| ident(c, dialect)).collect(),
        to_table: relation_name(&fk.foreign_table, dialect),
        to_columns: fk
            .referred_columns
            .iter()
            .map(|c| ident(c, dialect))
            .collect(),
        on_delete: fk.on_delete.map(|action| match action {
            ReferentialAction::Cascade => OnDelete::Cascade,
            ReferentialAction::SetNull => OnDelete::SetNull,
            ReferentialAction::SetDefault => OnDelete::SetDefault,
            ReferentialAction::Restrict => OnDelete::Restrict,
            ReferentialAction::NoAction => OnDelete::NoAction,
        }),
    }
}

/// An identifier as the database stores it: PostgreSQL folds unquoted names
/// to lower case; MySQL and SQLite keep them as written.
fn ident(id: &Ident, dialect: Dialect) -> String {
    match (dialect, id.quote_style) {
        (Dialect::Postgres, None) => id.value.to_lowercase(),
        _ => id.value.clone(),
    }
}

fn part_name(part: &ObjectNamePart, dialect: Dialect) -> String {
    match part {
        ObjectNamePart::Identifier(id) => ident(id, dialect),
        ObjectNamePart::Function(f) => ident(&f.name, dialect),
    }
}

/// `public.users` -> `users` (PostgreSQL's default schema, SQLite's `main`);
/// other schemas stay: `analytics.events`.
fn relation_name(name: &ObjectName, dialect: Dialect) -> String {
    let mut parts: Vec<String> = name.0.iter().map(|p| part_name(p, dialect)).collect();
    let default_schema = match dialect {
        Dialect::Postgres => "public",
        Dialect::Sqlite => "main",
        Dialect::Mysql => "",
    };
    if parts.len() >= 2 && parts.first().is_some_and(|s| s == default_schema) {
        parts.remove(0);
    }
    parts.join(".")
}

/// `public.gin_trgm_ops` -> `gin_trgm_ops`.
fn opclass_name(name: &ObjectName, dialect: Dialect) -> String {
    let parts: Vec<String> = name.0.iter().map(|p| part_name(p, dialect)).collect();
    match parts.as_slice() {
        [schema, opclass] if schema == "public" || schema == "pg_catalog" => opclass.clone(),
        _ => parts.join("."),
    }
}

/// Expression text with unquoted words in lower case, as PostgreSQL prints
/// index expressions (`lower((email)::text)`); quoted names and string
/// literals are kept as written.
fn expression_text(text: &str, dialect: Dialect) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for tok in Tokenizer::new(bytes, dialect) {
        if tok.kind == TokenKind::Word {
            if let (Some(before), Some(word)) =
                (text.get(last..tok.start), text.get(tok.start..tok.end))
            {
                out.push_str(before);
                out.push_str(&word.to_lowercase());
                last = tok.end;
            }
        }
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}
