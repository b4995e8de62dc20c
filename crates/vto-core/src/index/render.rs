//! Text the suggestions carry: Rails index names, migrations, SQL, numbers.

use std::fmt::Write as _;

use crate::schema::{Index, Order};
use crate::Dialect;

/// Rails' `max_index_name_size` (ActiveRecord 7.1+, every adapter): a longer
/// generated name is shortened to `idx_on_<columns>_<hash>`.
pub const MAX_INDEX_NAME_BYTES: usize = 62;

/// The name Rails gives an index on `columns` of `table`
/// (`index_<table>_on_<a>_and_<b>`), shortened as ActiveRecord 7.1+ does when
/// it is longer than [`MAX_INDEX_NAME_BYTES`]: `idx_on_<a>_<b>` cut to fit,
/// then `_` and the first 10 hex digits of the long name's SHA-256.
pub fn rails_index_name(table: &str, columns: &[String]) -> String {
    let name = format!("index_{table}_on_{}", columns.join("_and_"));
    if name.len() <= MAX_INDEX_NAME_BYTES {
        return name;
    }
    let digest = sha256_hex(name.as_bytes());
    let hashed = format!("_{}", digest.get(..10).unwrap_or_default());
    let mut short = format!("idx_on_{}", columns.join("_"));
    let mut limit = MAX_INDEX_NAME_BYTES.saturating_sub(hashed.len());
    if short.len() > limit {
        while !short.is_char_boundary(limit) {
            limit -= 1;
        }
        short.truncate(limit);
    }
    short + &hashed
}

/// SHA-256 of `data` as 64 lowercase hex digits (FIPS 180-4).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(add);
        }
    }
    let mut hex = String::with_capacity(64);
    for word in h {
        let _ = write!(hex, "{word:08x}");
    }
    hex
}

/// Words that must be quoted as identifiers in at least one dialect
/// (PostgreSQL's reserved and type/function-name keywords, MySQL's and
/// SQLite's common reserved words). Quoting one more word than needed is harmless.
const RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "binary",
    "both",
    "by",
    "case",
    "cast",
    "change",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "condition",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "default",
    "deferrable",
    "delete",
    "desc",
    "describe",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "force",
    "foreign",
    "freeze",
    "from",
    "full",
    "fulltext",
    "glob",
    "grant",
    "group",
    "having",
    "ignore",
    "ilike",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "keys",
    "kill",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "match",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "option",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "range",
    "read",
    "references",
    "regexp",
    "rename",
    "replace",
    "returning",
    "right",
    "rows",
    "select",
    "session_user",
    "set",
    "show",
    "similar",
    "some",
    "spatial",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "trigger",
    "true",
    "union",
    "unique",
    "update",
    "usage",
    "use",
    "user",
    "using",
    "values",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "write",
];

/// An identifier as SQL text, quoted only when it has to be: anything but
/// lower-case letters, digits and `_` (not leading with a digit), or a
/// reserved word. `schema.table` names are quoted part by part.
pub(crate) fn quote_qualified(name: &str, dialect: Dialect) -> String {
    name.split('.')
        .map(|part| quote_ident(part, dialect))
        .collect::<Vec<_>>()
        .join(".")
}

/// One identifier, quoted only when needed (see [`quote_qualified`]).
pub(crate) fn quote_ident(name: &str, dialect: Dialect) -> String {
    let plain = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !RESERVED.contains(&name);
    if plain {
        return name.to_owned();
    }
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `CREATE INDEX [CONCURRENTLY] name ON table (a, b DESC);`: the columns
/// named in `descending` get `DESC`.
pub(crate) fn create_index_sql(
    dialect: Dialect,
    table: &str,
    name: &str,
    columns: &[String],
    descending: &[String],
) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|c| {
            let quoted = quote_ident(c, dialect);
            if descending.contains(c) {
                format!("{quoted} DESC")
            } else {
                quoted
            }
        })
        .collect();
    format!(
        "CREATE INDEX {}{} ON {} ({});",
        if dialect == Dialect::Postgres {
            "CONCURRENTLY "
        } else {
            ""
        },
        quote_ident(name, dialect),
        quote_qualified(table, dialect),
        columns.join(", ")
    )
}

/// `DROP INDEX CONCURRENTLY name;` (PostgreSQL; the index lives in its
/// table's schema), `DROP INDEX name ON table;` (MySQL), `DROP INDEX name;` (SQLite).
pub(crate) fn drop_index_sql(dialect: Dialect, table: &str, name: &str) -> String {
    match dialect {
        Dialect::Postgres => {
            let schema = table
                .rsplit_once('.')
                .map(|(schema, _)| format!("{}.", quote_qualified(schema, dialect)))
                .unwrap_or_default();
            format!(
                "DROP INDEX CONCURRENTLY {schema}{};",
                quote_ident(name, dialect)
            )
        }
        Dialect::Mysql => format!(
            "DROP INDEX {} ON {};",
            quote_ident(name, dialect),
            quote_qualified(table, dialect)
        ),
        Dialect::Sqlite => format!("DROP INDEX {};", quote_ident(name, dialect)),
    }
}

/// A Ruby string literal (double-quoted, with `\`, `"` and `#` escaped).
pub(crate) fn ruby_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '#' => out.push_str("\\#"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn simple_name(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A Ruby symbol: `:user_id`, or `:"Audit Log"` when it is not a plain name.
pub(crate) fn ruby_symbol(s: &str) -> String {
    if simple_name(s) {
        format!(":{s}")
    } else {
        format!(":{}", ruby_string(s))
    }
}

/// A Ruby hash key: `user_id:`, or `"Audit Log":`.
fn ruby_key(s: &str) -> String {
    if simple_name(s) {
        format!("{s}:")
    } else {
        format!("{}:", ruby_string(s))
    }
}

/// `:a` for one column, `[:a, :b]` for several.
fn ruby_columns(columns: &[String]) -> String {
    match columns {
        [one] => ruby_symbol(one),
        many => format!(
            "[{}]",
            many.iter()
                .map(|c| ruby_symbol(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `CompletedWorkouts` from `completed_workouts`; only ASCII letters and
/// digits survive, so the result is a valid Ruby constant after a prefix.
pub(crate) fn camelize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

fn migration(class: &str, version: &str, dialect: Dialect, call: &str) -> String {
    let mut out = format!("class {class} < ActiveRecord::Migration[{version}]\n");
    if dialect == Dialect::Postgres {
        // CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
        out.push_str("  disable_ddl_transaction!\n\n");
    }
    let _ = write!(out, "  def change\n    {call}\n  end\nend\n");
    out
}

/// The migration that adds an index on plain `columns` (those in
/// `descending` sorted descending: `order: { b: :desc }`); `name` is passed
/// when it is not the one Rails would generate (a shortened long name).
pub(crate) fn add_index_migration(
    dialect: Dialect,
    version: &str,
    table: &str,
    columns: &[String],
    descending: &[String],
    name: &str,
) -> String {
    let call = add_index_call(dialect, table, columns, descending, name, None);
    let class = format!(
        "AddIndexOn{}To{}",
        camelize(&columns.join("_and_")),
        camelize(table)
    );
    migration(&class, version, dialect, &call)
}

/// The `add_index` call of [`add_index_migration`] alone (one line), with a
/// `where:` predicate for a partial index when `predicate` is given.
pub(crate) fn add_index_call(
    dialect: Dialect,
    table: &str,
    columns: &[String],
    descending: &[String],
    name: &str,
    predicate: Option<&str>,
) -> String {
    let mut call = format!(
        "add_index {}, {}",
        ruby_symbol(table),
        ruby_columns(columns)
    );
    if name != format!("index_{}_on_{}", bare(table), columns.join("_and_")) {
        let _ = write!(call, ", name: {}", ruby_string(name));
    }
    let orders: Vec<String> = columns
        .iter()
        .filter(|c| descending.contains(c))
        .map(|c| format!("{} :desc", ruby_key(c)))
        .collect();
    if !orders.is_empty() {
        let _ = write!(call, ", order: {{ {} }}", orders.join(", "));
    }
    if let Some(predicate) = predicate {
        let _ = write!(call, ", where: {}", ruby_string(predicate));
    }
    if dialect == Dialect::Postgres {
        call.push_str(", algorithm: :concurrently");
    }
    call
}

/// The migration that removes `index`, written reversibly: `remove_index`
/// with the column(s) and every option that `add_index` needs to recreate it.
pub(crate) fn remove_index_migration(
    dialect: Dialect,
    version: &str,
    table: &str,
    index: &Index,
) -> String {
    let class = format!("Remove{}", camelize(&index.name));
    let class = if class == "Remove" {
        "RemoveIndex".to_owned()
    } else {
        class
    };
    migration(
        &class,
        version,
        dialect,
        &remove_index_call(dialect, table, index),
    )
}

/// The migration that removes every index of `indexes` from `table`, one
/// reversible `remove_index` each ([`remove_index_migration`] for one).
pub(crate) fn remove_indexes_migration(
    dialect: Dialect,
    version: &str,
    table: &str,
    indexes: &[&Index],
) -> String {
    match indexes {
        [] => String::new(),
        [one] => remove_index_migration(dialect, version, table, one),
        many => {
            let calls: Vec<String> = many
                .iter()
                .map(|index| remove_index_call(dialect, table, index))
                .collect();
            migration(
                &format!("RemoveUnreadIndexesFrom{}", camelize(table)),
                version,
                dialect,
                &calls.join("\n    "),
            )
        }
    }
}

/// `remove_index :table, column: ..., name: ..., <options>`.
fn remove_index_call(dialect: Dialect, table: &str, index: &Index) -> String {
    let mut args = vec![ruby_symbol(table)];
    let expressions = index.keys.iter().any(|k| k.column.is_none());
    if expressions {
        // Rails takes expression keys as one SQL string, opclass and order inline.
        let keys: Vec<String> = index.keys.iter().map(|k| k.definition()).collect();
        args.push(format!("column: {}", ruby_string(&keys.join(", "))));
    } else {
        let columns: Vec<String> = index.keys.iter().map(|k| k.text().to_owned()).collect();
        args.push(format!("column: {}", ruby_columns(&columns)));
    }
    args.push(format!("name: {}", ruby_string(&index.name)));
    if index.unique {
        args.push("unique: true".to_owned());
    }
    if !expressions {
        let orders: Vec<String> = index
            .keys
            .iter()
            .filter(|k| k.order == Order::Desc)
            .map(|k| format!("{} :desc", ruby_key(k.text())))
            .collect();
        if !orders.is_empty() {
            args.push(format!("order: {{ {} }}", orders.join(", ")));
        }
        let opclasses: Vec<String> = index
            .keys
            .iter()
            .filter_map(|k| {
                k.opclass
                    .as_ref()
                    .map(|o| format!("{} {}", ruby_key(k.text()), ruby_symbol(o)))
            })
            .collect();
        if !opclasses.is_empty() {
            args.push(format!("opclass: {{ {} }}", opclasses.join(", ")));
        }
    }
    if let Some(predicate) = &index.predicate {
        args.push(format!("where: {}", ruby_string(predicate)));
    }
    if !index.include.is_empty() {
        args.push(format!("include: {}", {
            let symbols: Vec<String> = index.include.iter().map(|c| ruby_symbol(c)).collect();
            format!("[{}]", symbols.join(", "))
        }));
    }
    match index.method.as_str() {
        "fulltext" | "spatial" => args.push(format!("type: :{}", index.method)),
        _ if index.is_btree() => {}
        method => args.push(format!("using: {}", ruby_symbol(method))),
    }
    if dialect == Dialect::Postgres {
        args.push("algorithm: :concurrently".to_owned());
    }
    format!("remove_index {}", args.join(", "))
}

/// The table name without its schema.
pub(crate) fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// `1,200`
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `80 KB`, `1.5 MB` (binary units).
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("bytes");
    if unit == 0 {
        format!("{n} {name}")
    } else if value < 10.0 && value.fract() >= 0.05 {
        format!("{value:.1} {name}")
    } else {
        format!("{value:.0} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1200), "1,200");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(81920), "80 KB");
        assert_eq!(bytes(1536 * 1024), "1.5 MB");
        assert_eq!(bytes(200 * 1024 * 1024), "200 MB");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("user_id", Dialect::Postgres), "user_id");
        assert_eq!(quote_ident("order", Dialect::Postgres), "\"order\"");
        assert_eq!(quote_ident("Audit Log", Dialect::Postgres), "\"Audit Log\"");
        assert_eq!(quote_ident("key", Dialect::Mysql), "`key`");
        assert_eq!(
            quote_qualified("analytics.events", Dialect::Postgres),
            "analytics.events"
        );
        assert_eq!(ruby_string("a\"b#{x}\\"), "\"a\\\"b\\#{x}\\\\\"");
        assert_eq!(ruby_symbol("Audit Log"), ":\"Audit Log\"");
        assert_eq!(
            camelize("index_audit;log_on_payload"),
            "IndexAuditLogOnPayload"
        );
    }
}
