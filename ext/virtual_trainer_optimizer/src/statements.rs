//! A process-wide cache of recently seen SQL texts: their fingerprint and
//! statement class. An app sends the same few hundred statement texts over
//! and over (prepared statements, or the same literals), so most queries skip
//! normalization. Direct-mapped by the text's hash, verified by comparing the
//! text itself, bounded in slots and bytes.

use std::sync::Mutex;

use vto_core::sql::{classify, Fingerprint, StatementClass};
use vto_core::Dialect;

use crate::sql::normalizer;

const SLOTS: usize = 4096;
/// Longer texts are not kept (they are rare, and would cost memory).
const MAX_TEXT: usize = 4096;

struct Entry {
    hash: u64,
    dialect: Dialect,
    text: Box<[u8]>,
    fingerprint: Fingerprint,
    class: StatementClass,
}

static CACHE: Mutex<Vec<Option<Entry>>> = Mutex::new(Vec::new());

/// The fingerprint and class of `sql`, whose XXH3 hash is `hash`.
pub fn lookup(sql: &[u8], hash: u64, dialect: Dialect) -> (Fingerprint, StatementClass) {
    let slot = (hash as usize) & (SLOTS - 1);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if cache.is_empty() {
        cache.resize_with(SLOTS, || None);
    }
    if let Some(Some(e)) = cache.get(slot) {
        if e.hash == hash && e.dialect == dialect && *e.text == *sql {
            return (e.fingerprint, e.class);
        }
    }
    let class = classify(sql, dialect);
    let fingerprint = if matches!(class, StatementClass::Read | StatementClass::Write) {
        normalizer(dialect).fingerprint(sql)
    } else {
        Fingerprint(0)
    };
    if sql.len() <= MAX_TEXT {
        if let Some(entry) = cache.get_mut(slot) {
            *entry = Some(Entry {
                hash,
                dialect,
                text: sql.into(),
                fingerprint,
                class,
            });
        }
    }
    (fingerprint, class)
}
