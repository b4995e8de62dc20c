//! `VirtualTrainerOptimizer::Native::Scope`: one unit of work's queries, fed
//! by the `sql.active_record` subscriber. Per query it fingerprints the SQL,
//! hashes the exact statement with its binds, captures the call site and
//! records into `vto_core::detect::Scope`, in one native call. The SQL text of
//! one sample per fingerprint stays in native memory; what leaves as findings
//! is normalized SQL, literal-free shapes and resolved app frames.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use magnus::rb_sys::AsRawValue;
use magnus::value::{LazyId, ReprValue};
use magnus::{
    function, method, prelude::*, Error, Fixnum, Float, RArray, RHash, RModule, RObject, RString,
    Ruby, Symbol, Value,
};
use rb_sys::VALUE;
use vto_core::detect::{Config, Finding, QueryEvent, Scope};
use vto_core::sql::{Fingerprint, StatementClass};
use vto_core::Dialect;
use xxhash_rust::xxh3::xxh3_64;

use crate::errors::guard;
use crate::frames::{self, resolve};
use crate::shape::to_hash;
use crate::sql::{analyzer, dialect, limits, normalizer};
use crate::statements;

static VALUE_BEFORE_TYPE_CAST: LazyId = LazyId::new("@value_before_type_cast");

/// SQL kept per scope as samples, in bytes; past it, findings still come but
/// without their SQL text.
const MAX_SAMPLE_BYTES: usize = 2 << 20;

struct Site {
    frames: Vec<(VALUE, i32)>,
    via_association: bool,
}

struct State {
    scope: Option<Scope>,
    dialect: Dialect,
    max_keys: usize,
    sites: HashMap<u64, Site>,
    samples: HashMap<Fingerprint, Box<[u8]>>,
    sample_bytes: usize,
    skipped: u64,
}

#[derive(magnus::TypedData)]
#[magnus(
    class = "VirtualTrainerOptimizer::Native::Scope",
    free_immediately,
    size,
    mark
)]
pub(crate) struct NativeScope(Mutex<State>);

impl NativeScope {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl magnus::DataTypeFunctions for NativeScope {
    fn mark(&self, _marker: &magnus::gc::Marker) {
        // The app frames of every call site stay alive (and in place) until the
        // scope is collected: they are resolved to text only when reported.
        let state = self.state();
        for site in state.sites.values() {
            for &(frame, _) in &site.frames {
                // SAFETY: called during the GC's mark phase; rb_gc_mark pins.
                unsafe { rb_sys::rb_gc_mark(frame) };
            }
        }
    }
}

pub fn init(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Scope", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.define_singleton_method("new", function!(new_scope, 7))?;
    class.define_method("record", method!(NativeScope::record, 3))?;
    class.define_method("absorb", method!(NativeScope::absorb, 2))?;
    class.define_method("budget_ms=", method!(NativeScope::set_budget, 1))?;
    class.define_method("queries", method!(NativeScope::queries, 0))?;
    class.define_method("db_us", method!(NativeScope::db_us, 0))?;
    class.define_method("skipped", method!(NativeScope::skipped, 0))?;
    class.define_method("dropped", method!(NativeScope::dropped, 0))?;
    class.define_method("finished?", method!(NativeScope::is_finished, 0))?;
    class.define_method("finish", method!(NativeScope::finish, 1))?;
    class.define_method("totals", method!(NativeScope::totals, 0))?;
    class.define_method("tables", method!(NativeScope::tables, 0))?;
    class.define_method("shape", method!(NativeScope::shape, 1))?;
    Ok(())
}

/// `Native::Scope.new(dialect, n_plus_one_threshold, slow_query_ms,
/// duplicate_threshold, budget_ms, max_keys, max_slow_queries)`: positional,
/// as the one caller (`lib/virtual_trainer_optimizer/scope.rb`) passes them.
#[allow(clippy::too_many_arguments)]
fn new_scope(
    ruby: &Ruby,
    dialect_name: Value,
    n_plus_one_threshold: u32,
    slow_query_ms: f64,
    duplicate_threshold: u32,
    budget_ms: Option<f64>,
    max_keys: usize,
    max_slow_queries: usize,
) -> Result<NativeScope, Error> {
    let dialect = dialect(ruby, dialect_name)?;
    if n_plus_one_threshold < 2 || duplicate_threshold < 2 {
        return Err(Error::new(
            ruby.exception_arg_error(),
            "n_plus_one_threshold and duplicate_threshold must be at least 2",
        ));
    }
    let config = Config {
        n_plus_one_threshold,
        slow_query_ms,
        duplicate_threshold,
        budget_ms,
        max_keys,
        max_slow_queries,
    };
    Ok(NativeScope(Mutex::new(State {
        scope: Some(Scope::new(config)),
        dialect,
        max_keys,
        sites: HashMap::new(),
        samples: HashMap::new(),
        sample_bytes: 0,
        skipped: 0,
    })))
}

/// A hash of one bind value: immediates by their bits, strings by content,
/// ActiveRecord attributes by their database value, anything else by `#hash`.
fn bind_hash(ruby: &Ruby, value: Value, depth: u8) -> Result<u64, Error> {
    if let Some(s) = RString::from_value(value) {
        // SAFETY: read before any Ruby call.
        return Ok(xxh3_64(unsafe { s.as_slice() }));
    }
    if value.is_nil()
        || Fixnum::from_value(value).is_some()
        || Symbol::from_value(value).is_some()
        || value.is_kind_of(ruby.class_true_class())
        || value.is_kind_of(ruby.class_false_class())
    {
        return Ok(value.as_raw());
    }
    if let Some(f) = Float::from_value(value) {
        return Ok(f.to_f64().to_bits());
    }
    if depth == 0 {
        // An ActiveModel::Attribute (ActiveRecord's binds): the value as the
        // app gave it, read without a method call; `value_for_database`
        // where that ivar is absent.
        if let Some(object) = RObject::from_value(value) {
            let raw: Value = object.ivar_get(*VALUE_BEFORE_TYPE_CAST)?;
            if !raw.is_nil() {
                return bind_hash(ruby, raw, 1);
            }
        }
        if value.respond_to("value_for_database", false)? {
            let db: Value = value.funcall("value_for_database", ())?;
            return bind_hash(ruby, db, 1);
        }
    }
    let h: i64 = value.funcall("hash", ())?;
    Ok(h as u64)
}

fn binds_hash(ruby: &Ruby, binds: Value) -> Result<u64, Error> {
    let Some(binds) = RArray::from_value(binds) else {
        return Ok(0);
    };
    let mut h = 0u64;
    for i in 0..binds.len() {
        let v: Value = binds.entry(i as isize)?;
        h = (h.rotate_left(7) ^ bind_hash(ruby, v, 0)?).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    Ok(h)
}

impl NativeScope {
    /// `record(sql, binds, duration_us)`: false when the statement is not one
    /// the rules look at (transaction control, EXPLAIN, DDL) or the scope has
    /// finished.
    pub(crate) fn record(
        ruby: &Ruby,
        rb_self: &Self,
        sql: RString,
        binds: Value,
        duration_us: i64,
    ) -> Result<bool, Error> {
        let dialect = rb_self.state().dialect;
        let (fingerprint, class, text_hash) = {
            // SAFETY: the slice is read before any Ruby call.
            let bytes = unsafe { sql.as_slice() };
            let hash = xxh3_64(bytes);
            let (fp, class) = guard(ruby, || Ok(statements::lookup(bytes, hash, dialect)))?;
            if !matches!(class, StatementClass::Read | StatementClass::Write) {
                rb_self.state().skipped += 1;
                return Ok(false);
            }
            (fp, class, hash)
        };
        let exact = text_hash ^ binds_hash(ruby, binds)?.rotate_left(1);
        let capture = frames::capture(ruby)?;
        let mut state = rb_self.state();
        let max_keys = state.max_keys;
        let State {
            scope,
            sites,
            samples,
            sample_bytes,
            ..
        } = &mut *state;
        let Some(scope) = scope.as_mut() else {
            return Ok(false);
        };
        scope.record(QueryEvent {
            fingerprint,
            call_site: capture.site,
            exact,
            duration_us: u64::try_from(duration_us).unwrap_or(0),
            write: class == StatementClass::Write,
            batch: capture.batch,
        });
        if sites.len() < max_keys && !sites.contains_key(&capture.site) {
            sites.insert(
                capture.site,
                Site {
                    frames: capture.app_frames().to_vec(),
                    via_association: capture.via_association,
                },
            );
        }
        if samples.len() < max_keys && !samples.contains_key(&fingerprint) {
            // SAFETY: no Ruby call happens while the slice is borrowed.
            let bytes = unsafe { sql.as_slice() };
            if *sample_bytes + bytes.len() <= MAX_SAMPLE_BYTES {
                *sample_bytes += bytes.len();
                samples.insert(fingerprint, bytes.into());
            }
        }
        Ok(true)
    }

    fn absorb(&self, queries: u64, db_us: u64) {
        if let Some(scope) = self.state().scope.as_mut() {
            scope.absorb(queries, db_us);
        }
    }

    fn set_budget(&self, budget_ms: Option<f64>) {
        if let Some(scope) = self.state().scope.as_mut() {
            scope.set_budget(budget_ms);
        }
    }

    fn queries(&self) -> u64 {
        self.state().scope.as_ref().map_or(0, Scope::queries)
    }

    fn db_us(&self) -> u64 {
        self.state()
            .scope
            .as_ref()
            .map_or(0, |s| (s.db_ms() * 1000.0).round() as u64)
    }

    fn skipped(&self) -> u64 {
        self.state().skipped
    }

    fn dropped(&self) -> u64 {
        self.state().scope.as_ref().map_or(0, Scope::dropped)
    }

    fn is_finished(&self) -> bool {
        self.state().scope.is_none()
    }

    /// Ends the scope: an Array of Hashes, most urgent first (see
    /// `lib/virtual_trainer_optimizer/finding.rb` for the keys).
    fn finish(ruby: &Ruby, rb_self: &Self, elapsed_ms: f64) -> Result<RArray, Error> {
        let (findings, dialect) = {
            let mut state = rb_self.state();
            let Some(scope) = state.scope.take() else {
                return Err(Error::new(
                    ruby.exception_runtime_error(),
                    "this scope has already finished",
                ));
            };
            (guard(ruby, || Ok(scope.finish(elapsed_ms)))?, state.dialect)
        };
        let out = ruby.ary_new_capa(findings.len());
        for finding in &findings {
            out.push(rb_self.finding_hash(ruby, finding, dialect)?)?;
        }
        Ok(out)
    }

    fn finding_hash(&self, ruby: &Ruby, f: &Finding, dialect: Dialect) -> Result<RHash, Error> {
        let h = ruby.hash_new();
        h.aset("kind", f.kind.as_str())?;
        h.aset("count", f.count)?;
        h.aset("total_ms", f.total_ms)?;
        h.aset("max_ms", f.max_ms)?;
        h.aset("db_ms", f.db_ms)?;
        h.aset("priority", f.priority.as_str())?;
        let (sample, site) = {
            let state = self.state();
            let sample = f.fingerprint.and_then(|fp| state.samples.get(&fp).cloned());
            let site = f
                .call_site
                .and_then(|s| state.sites.get(&s))
                .map(|s| (s.frames.clone(), s.via_association));
            (sample, site)
        };
        if let Some(fp) = f.fingerprint {
            h.aset("fingerprint", ruby.str_from_slice(&fp.to_hex()))?;
        }
        if let Some(sample) = sample {
            let normalized = guard(ruby, || Ok(normalizer(dialect).normalize(&sample)))?;
            h.aset("sql", normalized)?;
        }
        if let Some((site_frames, via_association)) = site {
            h.aset("frames", resolve(ruby, &site_frames)?)?;
            h.aset("via_association", via_association)?;
        }
        Ok(h)
    }

    /// `[[fingerprint, count, total_ms, normalized_sql], ...]`, most time first.
    fn totals(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let state = rb_self.state();
        let Some(scope) = state.scope.as_ref() else {
            return Ok(ruby.ary_new());
        };
        let totals = scope.totals();
        let rows: Vec<(String, u32, f64, Option<String>)> = totals
            .iter()
            .map(|t| {
                let sql = state
                    .samples
                    .get(&t.fingerprint)
                    .map(|s| normalizer(state.dialect).normalize(s));
                (t.fingerprint.to_string(), t.count, t.total_ms, sql)
            })
            .collect();
        drop(state);
        let out = ruby.ary_new_capa(rows.len());
        for row in rows {
            out.push(row)?;
        }
        Ok(out)
    }

    /// `shape(fingerprint)`: the parsed shape of the scope's sample of that
    /// fingerprint (a Hash as `SQL.analyze` returns), or nil. Asked only when
    /// a fix hint is computed, so a reported finding costs no parse otherwise.
    fn shape(ruby: &Ruby, rb_self: &Self, fingerprint: RString) -> Result<Option<RHash>, Error> {
        // SAFETY: read before any Ruby call.
        let hex = unsafe { fingerprint.as_slice() };
        let wanted = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .map(Fingerprint);
        let (sample, dialect) = {
            let state = rb_self.state();
            (
                wanted.and_then(|fp| state.samples.get(&fp).cloned()),
                state.dialect,
            )
        };
        let Some(sample) = sample else {
            return Ok(None);
        };
        let shape = guard(ruby, || {
            Ok(analyzer().analyze(&sample, dialect, limits()).ok())
        })?;
        shape.map(|s| to_hash(ruby, &s)).transpose()
    }

    /// Names of the tables the scope's queries touched (from one sample per
    /// fingerprint), for the fix hints.
    fn tables(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let (samples, dialect): (Vec<Box<[u8]>>, Dialect) = {
            let state = rb_self.state();
            (state.samples.values().cloned().collect(), state.dialect)
        };
        let mut names: Vec<String> = Vec::new();
        for sample in &samples {
            let shape = guard(ruby, || {
                Ok(analyzer().analyze(sample, dialect, limits()).ok())
            })?;
            for table in shape.iter().flat_map(|s| s.tables.iter()) {
                if !names.contains(&table.name) {
                    names.push(table.name.clone());
                }
            }
        }
        let out = ruby.ary_new_capa(names.len());
        for name in names {
            out.push(name)?;
        }
        Ok(out)
    }
}
