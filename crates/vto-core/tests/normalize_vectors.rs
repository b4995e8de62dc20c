//! The shared vectors in `tests/vectors/*.json`, also read by RSpec:
//! hand-written tokenizer cases (`normalize.json`) and SQL that real
//! ActiveRecord sent to SQLite, PostgreSQL and MySQL (`rails_*.json`, made by
//! `rake vectors:generate`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::HashMap;

use serde_json::Value;
use vto_core::sql::{self, analyze_uncached, Limits};
use vto_core::{Dialect, Error};

fn vectors() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("vectors directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable vectors file");
        for v in serde_json::from_str::<Vec<Value>>(&text).expect("a JSON array") {
            out.push((file.clone(), v));
        }
    }
    out
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector {v} lacks {key}"))
}

#[test]
fn the_corpus_is_large_and_covers_every_dialect() {
    let vectors = vectors();
    for dialect in ["postgresql", "mysql", "sqlite"] {
        let from_rails = vectors
            .iter()
            .filter(|(file, v)| file.starts_with("rails_") && field(v, "dialect") == dialect)
            .count();
        assert!(
            from_rails >= 150,
            "{dialect}: {from_rails} Rails statements"
        );
    }
}

#[test]
fn normalized_forms_and_pinned_fingerprints_match() {
    for (file, v) in vectors() {
        let dialect = Dialect::from_name(field(&v, "dialect")).unwrap();
        let sql = field(&v, "sql").as_bytes();
        let name = format!("{file}: {}", field(&v, "name"));
        assert_eq!(
            sql::normalize(sql, dialect),
            field(&v, "normalized"),
            "{name}"
        );
        // Pinned: a fingerprint must never change within a major version.
        assert_eq!(
            sql::fingerprint(sql, dialect).to_string(),
            field(&v, "fingerprint"),
            "{name}"
        );
    }
}

#[test]
fn shapes_match() {
    let mut checked = 0;
    for (file, v) in vectors() {
        let Some(expected) = v.get("shape") else {
            continue;
        };
        let dialect = Dialect::from_name(field(&v, "dialect")).unwrap();
        let got = match analyze_uncached(field(&v, "sql").as_bytes(), dialect, Limits::default()) {
            Ok(shape) => serde_json::to_value(&shape).unwrap(),
            Err(Error::Parse { .. }) => {
                serde_json::json!({"error": "VirtualTrainerOptimizer::ParseError"})
            }
            Err(e) => serde_json::json!({"error": e.to_string()}),
        };
        assert_eq!(&got, expected, "{file}: {}", field(&v, "name"));
        checked += 1;
    }
    assert!(checked >= 450, "only {checked} shapes checked");
}

#[test]
fn groups_share_a_fingerprint_and_differ_from_each_other() {
    let mut by_group: HashMap<String, String> = HashMap::new();
    // Distinct groups of one file must differ; files may share shapes (SQLite
    // and PostgreSQL quote alike).
    let mut owner: HashMap<(String, String), String> = HashMap::new();
    for (file, v) in vectors() {
        let fp = field(&v, "fingerprint").to_owned();
        let group = format!("{file}/{}", field(&v, "group"));
        match by_group.get(&group) {
            Some(existing) => assert_eq!(existing, &fp, "group {group} split"),
            None => {
                if let Some(other) = owner.get(&(file.clone(), fp.clone())) {
                    panic!("groups {group} and {other} share fingerprint {fp}");
                }
                owner.insert((file.clone(), fp.clone()), group.clone());
                by_group.insert(group, fp);
            }
        }
    }
}
