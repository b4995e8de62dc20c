//! The shared vectors in `tests/vectors/normalize.json`, also read by RSpec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::HashMap;

use serde_json::Value;
use vto_core::{sql, Dialect};

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/normalize.json"
    );
    let text = std::fs::read_to_string(path).expect("vectors file is readable");
    serde_json::from_str::<Vec<Value>>(&text).expect("vectors file is a JSON array")
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector {v} lacks {key}"))
}

#[test]
fn normalized_forms_and_pinned_fingerprints_match() {
    let vectors = vectors();
    assert!(vectors.len() >= 30);
    for v in &vectors {
        let dialect = Dialect::from_name(field(v, "dialect")).expect("known dialect");
        let sql = field(v, "sql").as_bytes();
        assert_eq!(
            sql::normalize(sql, dialect),
            field(v, "normalized"),
            "{}",
            field(v, "name")
        );
        // Pinned: a fingerprint must never change within a major version.
        assert_eq!(
            sql::fingerprint(sql, dialect).to_string(),
            field(v, "fingerprint"),
            "{}",
            field(v, "name")
        );
    }
}

#[test]
fn groups_share_a_fingerprint_and_differ_from_each_other() {
    let mut by_group: HashMap<&str, String> = HashMap::new();
    for v in vectors().iter() {
        let fp = field(v, "fingerprint").to_owned();
        let group = v["group"].as_str().expect("group");
        match by_group.get(group) {
            Some(existing) => assert_eq!(existing, &fp, "group {group} split"),
            None => {
                assert!(
                    !by_group.values().any(|other| other == &fp),
                    "group {group} collides with another group"
                );
                by_group.insert(group, fp);
            }
        }
    }
}
