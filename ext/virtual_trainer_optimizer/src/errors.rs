//! The one mapping from core errors and Rust panics to the Ruby exception
//! classes, which `lib/virtual_trainer_optimizer/errors.rb` defines.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use magnus::{function, prelude::*, value::Opaque, Error, ExceptionClass, RModule, Ruby};

struct Classes {
    parse_error: Opaque<ExceptionClass>,
    input_too_large: Opaque<ExceptionClass>,
    internal_error: Opaque<ExceptionClass>,
}

static CLASSES: OnceLock<Classes> = OnceLock::new();

pub fn init(ruby: &Ruby, root: RModule) -> Result<(), Error> {
    let lookup = |name: &str| -> Result<Opaque<ExceptionClass>, Error> {
        root.const_get::<_, ExceptionClass>(name)
            .map(|class| {
                // Pinned: a static may hold it only if the GC never moves it
                // (GC.compact would otherwise leave a dangling reference).
                magnus::gc::register_mark_object(class);
                Opaque::from(class)
            })
            .map_err(|_| {
                Error::new(
                    ruby.exception_load_error(),
                    format!(
                        "VirtualTrainerOptimizer::{name} is not defined: require \
                     \"virtual_trainer_optimizer\" rather than the native library directly"
                    ),
                )
            })
    };
    let classes = Classes {
        parse_error: lookup("ParseError")?,
        input_too_large: lookup("InputTooLarge")?,
        internal_error: lookup("InternalError")?,
    };
    // A second load of the library keeps the classes looked up the first time:
    // they are constants and never change.
    let _ = CLASSES.set(classes);

    let native = root.define_module("Native")?;
    native.define_module_function("panic_for_diagnostics", function!(panic_for_diagnostics, 1))?;
    Ok(())
}

fn class(ruby: &Ruby, pick: fn(&Classes) -> Opaque<ExceptionClass>) -> ExceptionClass {
    match CLASSES.get() {
        Some(classes) => ruby.get_inner(pick(classes)),
        None => ruby.exception_runtime_error(),
    }
}

/// Converts a core error into the matching Ruby exception.
pub fn to_ruby(ruby: &Ruby, err: vto_core::Error) -> Error {
    let msg = err.to_string();
    match err {
        vto_core::Error::Parse { .. } => Error::new(class(ruby, |c| c.parse_error), msg),
        vto_core::Error::InputTooLarge { .. } | vto_core::Error::TooComplex { .. } => {
            Error::new(class(ruby, |c| c.input_too_large), msg)
        }
        vto_core::Error::UnknownDialect { .. }
        | vto_core::Error::UnknownFormat { .. }
        | vto_core::Error::InvalidInput { .. } => Error::new(ruby.exception_arg_error(), msg),
    }
}

/// Runs `f`, turning a Rust panic into `VirtualTrainerOptimizer::InternalError`
/// (magnus would otherwise raise `fatal`, which ends the Ruby process).
pub fn guard<T>(ruby: &Ruby, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Error::new(
                class(ruby, |c| c.internal_error),
                format!("internal error in virtual_trainer_optimizer's native code: {detail}"),
            ))
        }
    }
}

/// Panics inside the guard on purpose, so a build can prove its panic handling
/// (`VirtualTrainerOptimizer::Native.panic_for_diagnostics("why")`).
#[allow(clippy::panic)]
fn panic_for_diagnostics(ruby: &Ruby, message: String) -> Result<(), Error> {
    guard(ruby, || panic!("{message}"))
}
