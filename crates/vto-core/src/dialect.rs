use std::str::FromStr;

use crate::Error;

/// The SQL dialects the analyzer understands, one per family of Rails adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// PostgreSQL (Rails adapters `postgresql`, `postgis`).
    Postgres,
    /// MySQL and MariaDB (Rails adapters `mysql2`, `trilogy`).
    Mysql,
    /// SQLite (Rails adapter `sqlite3`).
    Sqlite,
}

impl Dialect {
    /// The canonical name: `postgresql`, `mysql` or `sqlite`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Resolves a dialect or Rails adapter name, case-insensitively.
    ///
    /// ```
    /// use vto_core::Dialect;
    /// assert_eq!(Dialect::from_name("mysql2").unwrap(), Dialect::Mysql);
    /// assert!(Dialect::from_name("oracle").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Dialect, Error> {
        Dialect::NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, dialect)| *dialect)
            .ok_or_else(|| Error::UnknownDialect {
                name: name.to_owned(),
            })
    }

    /// Every accepted name (lower case) and its dialect.
    pub const NAMES: [(&'static str, Dialect); 10] = [
        ("postgresql", Dialect::Postgres),
        ("postgres", Dialect::Postgres),
        ("postgis", Dialect::Postgres),
        ("pg", Dialect::Postgres),
        ("mysql", Dialect::Mysql),
        ("mysql2", Dialect::Mysql),
        ("trilogy", Dialect::Mysql),
        ("mariadb", Dialect::Mysql),
        ("sqlite", Dialect::Sqlite),
        ("sqlite3", Dialect::Sqlite),
    ];
}

impl FromStr for Dialect {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::from_name(s)
    }
}
