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
        match name.to_ascii_lowercase().as_str() {
            "postgresql" | "postgres" | "postgis" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mysql2" | "trilogy" | "mariadb" => Ok(Dialect::Mysql),
            "sqlite" | "sqlite3" => Ok(Dialect::Sqlite),
            _ => Err(Error::UnknownDialect {
                name: name.to_owned(),
            }),
        }
    }
}

impl FromStr for Dialect {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::from_name(s)
    }
}
