//! Prints the shape of each line of standard input as JSON.
//!
//! `echo "SELECT * FROM users WHERE id = 1" | cargo run -p vto-core --example analyze -- postgresql`
use std::io::BufRead;

use vto_core::{sql, Dialect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dialect = Dialect::from_name(&std::env::args().nth(1).unwrap_or("postgresql".into()))?;
    for line in std::io::stdin().lock().split(b'\n') {
        match sql::analyze_uncached(&line?, dialect, sql::Limits::default()) {
            Ok(shape) => println!("{}", serde_json::to_string(&shape)?),
            Err(e) => println!("{}", serde_json::to_string(&e)?),
        }
    }
    Ok(())
}
