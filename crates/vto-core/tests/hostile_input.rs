//! No input may panic, hang or overflow the stack on the hot path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use vto_core::sql::{self, Normalizer};
use vto_core::Dialect;

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

#[test]
fn ten_thousand_nested_parentheses() {
    let sql = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    for d in DIALECTS {
        let out = sql::normalize(sql.as_bytes(), d);
        assert_eq!(
            out,
            format!("SELECT {}?{}", "(".repeat(10_000), ")".repeat(10_000))
        );
    }
}

#[test]
fn one_mebibyte_in_list_collapses() {
    let mut sql = String::from("SELECT * FROM \"t\" WHERE \"t\".\"id\" IN (");
    while sql.len() < (1 << 20) - 16 {
        sql.push_str("123456, ");
    }
    sql.push_str("1)");
    let n = Normalizer::new(Dialect::Postgres).max_input_bytes(2 << 20);
    assert_eq!(
        n.normalize(sql.as_bytes()),
        "SELECT * FROM \"t\" WHERE \"t\".\"id\" IN (?)"
    );
}

#[test]
fn input_past_the_cap_is_ignored() {
    let n = Normalizer::new(Dialect::Postgres).max_input_bytes(12);
    assert_eq!(
        n.normalize(b"SELECT 1 FROM users WHERE x = 2"),
        "SELECT ? FRO"
    );
}

#[test]
fn nul_bytes_invalid_utf8_and_unterminated_tokens() {
    let inputs: [&[u8]; 6] = [
        b"SELECT \0 FROM \0\0",
        b"SELECT \xff\xfe FROM \"\xc3\x28\" WHERE a = '\x80'",
        b"SELECT 'unterminated",
        b"SELECT /* unterminated",
        b"SELECT E'\\",
        b"\xff",
    ];
    for input in inputs {
        for d in DIALECTS {
            let out = sql::normalize(input, d);
            assert_eq!(sql::fingerprint(input, d).to_string().len(), 16);
            assert!(!out.contains("unterminated"), "literal leaked: {out}");
        }
    }
    // Dollar quoting is PostgreSQL's alone.
    assert_eq!(
        sql::normalize(b"SELECT $$ unterminated", Dialect::Postgres),
        "SELECT ?"
    );
    // An unterminated double quote is an identifier in PostgreSQL, a string in MySQL.
    assert_eq!(
        sql::normalize(b"SELECT \"x", Dialect::Postgres),
        "SELECT \"x"
    );
    assert_eq!(sql::normalize(b"SELECT \"x", Dialect::Mysql), "SELECT ?");
}

#[test]
fn every_byte_and_every_prefix_is_accepted() {
    let sample = "SELECT \"a\".* FROM `b` WHERE [c] = $1 AND d IN (1, 'x''y', E'\\'', $q$z$q$) \
                  AND e::int > -2.5e3 /* c /* n */ */ -- t\n# h\n AND f = :g ? ;";
    for d in DIALECTS {
        for end in 0..=sample.len() {
            let _ = sql::normalize(&sample.as_bytes()[..end], d);
        }
        for b in 0..=255u8 {
            let _ = sql::normalize(&[b], d);
            let _ = sql::normalize(&[b'x', b, b, b'y'], d);
        }
    }
}

#[test]
fn every_literal_form_becomes_one_placeholder() {
    let pg = |sql: &str| sql::normalize(sql.as_bytes(), Dialect::Postgres);
    assert_eq!(
        pg("SELECT 1 WHERE a = 0b101 AND b = 0o17 AND c = 0x1F_FF AND d = 1_000.000_1 AND e = 1e-3"),
        "SELECT ? WHERE a = ? AND b = ? AND c = ? AND d = ? AND e = ?"
    );
    // SQLite numbers its binds.
    assert_eq!(
        sql::normalize(b"SELECT 1 WHERE a = ?1 AND b = ?23", Dialect::Sqlite),
        "SELECT ? WHERE a = ? AND b = ?"
    );
}

#[test]
fn mysql_double_dash_is_a_comment_only_before_a_space() {
    let my = |sql: &str| sql::normalize(sql.as_bytes(), Dialect::Mysql);
    assert_eq!(
        my("SELECT 1 WHERE a = 5--1 AND b = 2"),
        "SELECT ? WHERE a = ? - ? AND b = ?"
    );
    assert_eq!(my("SELECT 1 WHERE a = 5 -- note"), "SELECT ? WHERE a = ?");
    assert_eq!(my("SELECT 1 WHERE a = 5 --"), "SELECT ? WHERE a = ?");
    // PostgreSQL and SQLite start a comment at any `--`.
    assert_eq!(
        sql::normalize(b"SELECT 1--x", Dialect::Postgres),
        "SELECT ?"
    );
}

#[test]
fn a_sign_after_an_operand_keyword_is_an_operator() {
    let pg = |sql: &str| sql::normalize(sql.as_bytes(), Dialect::Postgres);
    assert_eq!(pg("SELECT key - 1 FROM t"), "SELECT KEY - ? FROM t");
    assert_ne!(pg("SELECT key - 1 FROM t"), pg("SELECT key + 1 FROM t"));
    assert_eq!(
        pg("SELECT CASE WHEN a THEN 1 END - 1 FROM t"),
        "SELECT CASE WHEN a THEN ? END - ? FROM t"
    );
    assert_eq!(
        pg("SELECT * FROM t WHERE a = -1"),
        "SELECT * FROM t WHERE a = ?"
    );
}

#[test]
fn a_list_cut_by_the_cap_still_collapses() {
    let list = |width: usize| {
        let item = "9".repeat(width);
        let items = vec![item.as_str(); 200_000].join(", ");
        format!("SELECT * FROM t WHERE id IN ({items})")
    };
    let (narrow, wide) = (list(7), list(8));
    assert!(narrow.len() > sql::DEFAULT_MAX_INPUT_BYTES);
    for d in DIALECTS {
        assert_eq!(
            sql::normalize(narrow.as_bytes(), d),
            "SELECT * FROM t WHERE id IN (?"
        );
        assert_eq!(
            sql::fingerprint(narrow.as_bytes(), d),
            sql::fingerprint(wide.as_bytes(), d)
        );
    }
}
