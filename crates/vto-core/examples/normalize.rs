//! Prints the normalized form and fingerprint of each line of standard input.
//!
//! `echo "SELECT 1" | cargo run -p vto-core --example normalize -- postgresql`
use std::io::BufRead;

use vto_core::{sql::Normalizer, Dialect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dialect = Dialect::from_name(&std::env::args().nth(1).unwrap_or("postgresql".into()))?;
    let normalizer = Normalizer::new(dialect);
    for line in std::io::stdin().lock().split(b'\n') {
        let line = line?;
        println!(
            "{}  {}",
            normalizer.fingerprint(&line),
            normalizer.normalize(&line)
        );
    }
    Ok(())
}
