//! # vto-core
//!
//! The analysis core of `virtual_trainer_optimizer`, a Rails database-performance
//! and data-governance advisor. This crate is plain Rust with no Ruby in it: the
//! Ruby gem feeds it SQL, schema and workload as data and gets plain data back.
//!
//! It holds the SQL hot path, the detection rules ([`detect`]), the reports
//! built from their findings ([`report`]), the schema model read from live
//! introspection or SQL DDL ([`schema`]) and the index advisor ([`index`]):
//!
//! - [`sql::normalize`] turns any SQL text (any bytes, even invalid UTF-8) into a
//!   canonical form with every literal and bind replaced by `?`, `IN (...)` lists
//!   and multi-row `VALUES` collapsed, comments removed, whitespace and keyword
//!   case folded;
//! - [`sql::fingerprint`] is a stable 64-bit hash of that form, so queries that
//!   differ only in values, binds, list lengths, comments or formatting share one.
//!
//! ```
//! use vto_core::{sql, Dialect};
//!
//! let a = sql::fingerprint(b"SELECT * FROM users WHERE id = 1", Dialect::Postgres);
//! let b = sql::fingerprint(b"select *  from users where id = $1 /* app:web */", Dialect::Postgres);
//! assert_eq!(a, b);
//! assert_eq!(a.to_string().len(), 16);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod detect;
mod dialect;
mod error;
pub mod external;
pub mod index;
pub mod plan;
pub mod report;
pub mod retention;
pub mod schema;
pub mod sql;

pub use dialect::Dialect;
pub use error::Error;
