//! Ruby binding of `vto-core`: argument conversion, error mapping and the panic
//! guard. No analysis logic lives here.

mod errors;
mod shape;
mod sql;

use magnus::{Error, Ruby};

#[magnus::init(name = "virtual_trainer_optimizer")]
fn init(ruby: &Ruby) -> Result<(), Error> {
    let root = ruby.define_module("VirtualTrainerOptimizer")?;
    errors::init(ruby, root)?;
    sql::init(ruby, root)?;
    Ok(())
}
