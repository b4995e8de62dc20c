//! `VirtualTrainerOptimizer::Native::Subscriber`: the `sql.active_record`
//! listener itself, so an event costs no Ruby frame of ours. Outside a unit of
//! work it is one fiber-local lookup. It skips schema queries, query-cache
//! hits, EXPLAIN and transaction control, and it is fail-open: an error is
//! handed to `VirtualTrainerOptimizer.internal_error` (counted, logged once),
//! never raised into the app's query. Installed by
//! `lib/virtual_trainer_optimizer/subscriber.rb`.

use magnus::rb_sys::{AsRawId, FromRawValue};
use magnus::typed_data::Obj;
use magnus::value::{Lazy, LazyId, ReprValue, StaticSymbol};
use magnus::{
    function, method, prelude::*, Error, Exception, Float, RHash, RModule, RString, Ruby,
    TryConvert, Value,
};

use crate::detect::NativeScope;

/// The fiber-local key of the innermost unit's recorder (Scope::NATIVE).
static NATIVE: LazyId = LazyId::new("__virtual_trainer_optimizer_native");

const SKIPPED_NAMES: [&[u8]; 4] = [b"SCHEMA", b"CACHE", b"EXPLAIN", b"TRANSACTION"];

#[magnus::wrap(
    class = "VirtualTrainerOptimizer::Native::Subscriber",
    free_immediately,
    size
)]
struct Subscriber;

pub fn init(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Subscriber", ruby.class_object())?;
    class.define_singleton_method("new", function!(|| Subscriber, 0))?;
    class.define_method("call", method!(Subscriber::call, 5))?;
    Ok(())
}

static CACHED: Lazy<StaticSymbol> = Lazy::new(|ruby| ruby.sym_new("cached"));
static NAME: Lazy<StaticSymbol> = Lazy::new(|ruby| ruby.sym_new("name"));
static SQL: Lazy<StaticSymbol> = Lazy::new(|ruby| ruby.sym_new("sql"));
static BINDS: Lazy<StaticSymbol> = Lazy::new(|ruby| ruby.sym_new("binds"));

impl Subscriber {
    /// `call(name, started, finished, id, payload)`, as a monotonic
    /// ActiveSupport::Notifications subscriber.
    fn call(
        ruby: &Ruby,
        _rb_self: &Self,
        _name: Value,
        started: Value,
        finished: Value,
        _id: Value,
        payload: Value,
    ) {
        // SAFETY: reading the current thread's (current fiber's) local.
        let current = unsafe {
            Value::from_raw(rb_sys::rb_thread_local_aref(
                rb_sys::rb_thread_current(),
                LazyId::get_inner_with(&NATIVE, ruby).as_raw(),
            ))
        };
        if current.is_nil() {
            return;
        }
        if let Err(error) = Self::record(ruby, current, started, finished, payload) {
            report(ruby, error);
        }
    }

    fn record(
        ruby: &Ruby,
        current: Value,
        started: Value,
        finished: Value,
        payload: Value,
    ) -> Result<(), Error> {
        let scope = <Obj<NativeScope>>::try_convert(current)?;
        let payload = RHash::try_convert(payload)?;
        if payload
            .get(ruby.get_inner(&CACHED))
            .is_some_and(|v| v.to_bool())
        {
            return Ok(());
        }
        if let Some(name) = payload
            .get(ruby.get_inner(&NAME))
            .and_then(RString::from_value)
        {
            // SAFETY: compared before any Ruby call.
            let bytes = unsafe { name.as_slice() };
            if SKIPPED_NAMES.contains(&bytes) {
                return Ok(());
            }
        }
        let Some(sql) = payload
            .get(ruby.get_inner(&SQL))
            .and_then(RString::from_value)
        else {
            return Ok(());
        };
        let binds = payload
            .get(ruby.get_inner(&BINDS))
            .unwrap_or_else(|| ruby.qnil().as_value());
        let seconds = |v: Value| -> Result<f64, Error> {
            match Float::from_value(v) {
                Some(f) => Ok(f.to_f64()),
                None => v.funcall("to_f", ()),
            }
        };
        let duration_us = ((seconds(finished)? - seconds(started)?) * 1_000_000.0) as i64;
        NativeScope::record(ruby, &scope, sql, binds, duration_us)?;
        Ok(())
    }
}

/// Hands an error to `VirtualTrainerOptimizer.internal_error` (which never
/// raises); if even that fails, the error is dropped: the app's query wins.
fn report(ruby: &Ruby, error: Error) {
    let exception = error.value().and_then(Exception::from_value).or_else(|| {
        ruby.exception_runtime_error()
            .new_instance((error.to_string(),))
            .ok()
    });
    let Some(exception) = exception else {
        return;
    };
    let _ = ruby
        .class_object()
        .const_get::<_, RModule>("VirtualTrainerOptimizer")
        .and_then(|root| root.funcall::<_, _, Value>("internal_error", (exception,)));
}
