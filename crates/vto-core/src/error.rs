use std::fmt;

/// Every error the core returns. Callers decide what to do with it; the core never panics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// The SQL could not be parsed; `message` is the parser's own explanation.
    Parse {
        /// The parser's message.
        message: String,
    },
    /// The input is larger than the configured cap.
    InputTooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The cap in bytes.
        limit: usize,
    },
    /// The SQL nests or chains deeper than the analyzer's limits allow; refused
    /// before parsing, which could otherwise exhaust the stack.
    TooComplex {
        /// Which limit was exceeded.
        message: String,
    },
    /// The dialect name is not one the core knows.
    UnknownDialect {
        /// The name that was given.
        name: String,
    },
    /// The report format name is not one the core renders
    /// (see [`crate::report::ci::Format`]).
    UnknownFormat {
        /// The name that was given.
        name: String,
    },
    /// Input data (e.g. the findings JSON of a report) is malformed or does
    /// not have the expected shape.
    InvalidInput {
        /// What is wrong, with the position where the decoder knows it.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse { message } => write!(f, "SQL parse error: {message}"),
            Error::InputTooLarge { size, limit } => {
                write!(
                    f,
                    "SQL input of {size} bytes exceeds the limit of {limit} bytes"
                )
            }
            Error::TooComplex { message } => write!(f, "SQL too complex to analyze: {message}"),
            Error::UnknownDialect { name } => write!(
                f,
                "unknown SQL dialect {name:?} (expected postgresql, mysql or sqlite, \
                 or a Rails adapter name: postgis, mysql2, trilogy, sqlite3)"
            ),
            Error::UnknownFormat { name } => write!(
                f,
                "unknown report format {name:?} (expected text, json, sarif or github)"
            ),
            Error::InvalidInput { message } => write!(f, "invalid input: {message}"),
        }
    }
}

impl std::error::Error for Error {}
