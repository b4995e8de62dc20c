//! Ruby binding of `vto-core`: argument conversion, error mapping and the panic
//! guard. No analysis logic lives here.

mod detect;
mod errors;
mod external;
mod frames;
mod plan;
mod report;
mod retention;
mod schema;
mod shape;
mod sql;
mod statements;
mod subscriber;
mod summary;

use magnus::{prelude::*, Error, Ruby};

#[magnus::init(name = "virtual_trainer_optimizer")]
fn init(ruby: &Ruby) -> Result<(), Error> {
    let root = ruby.define_module("VirtualTrainerOptimizer")?;
    errors::init(ruby, root)?;
    sql::init(ruby, root)?;
    let native = root.define_module("Native")?;
    frames::init(ruby, native)?;
    detect::init(ruby, native)?;
    subscriber::init(ruby, native)?;
    summary::init(native)?;
    plan::init(native)?;
    schema::init(native)?;
    retention::init(native)?;
    external::init(native)?;
    report::init(native)?;
    Ok(())
}
