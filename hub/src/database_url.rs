//! Where the hub keeps its data: `postgres://…` (a chain: several hub processes over one
//! database) or `sqlite://PATH` (one site). Parsed once, at the edge.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A parsed `--database` value.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// The URL as given (`postgres://` or `postgresql://`), handed to the driver.
    Postgres(String),
    /// The SQLite file's path.
    Sqlite(PathBuf),
}

/// The engine's name as `serve` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("the database URL is empty (expected postgres://… or sqlite://PATH)")]
    Empty,
    #[error("sqlite:// needs a file path (sqlite:///var/lib/passdesk/hub.sqlite)")]
    NoPath,
    #[error("unknown database URL scheme in {0:?} (expected postgres://… or sqlite://PATH)")]
    Scheme(String),
}

impl DatabaseUrl {
    pub fn engine(&self) -> Engine {
        match self {
            Self::Postgres(_) => Engine::Postgres,
            Self::Sqlite(_) => Engine::Sqlite,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DatabaseUrlError::NoPath);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        // Only the scheme: the rest may hold a password.
        let scheme = s.split("://").next().unwrap_or(s);
        Err(DatabaseUrlError::Scheme(scheme.chars().take(32).collect()))
    }
}

/// Never the password: `postgres://user:***@host/db`.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(start), Some(at)) if at > start => {
                        let userinfo = &url[start + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        let masked = if userinfo.contains(':') { ":***" } else { "" };
                        format!("{}{user}{masked}{}", &url[..start + 3], &url[at..])
                    }
                    _ => url.clone(),
                };
                write!(f, "{shown}")
            }
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_parse_and_the_rest_is_refused() {
        assert_eq!(
            "sqlite:///tmp/hub.sqlite".parse(),
            Ok(DatabaseUrl::Sqlite("/tmp/hub.sqlite".into()))
        );
        assert_eq!(
            "sqlite://hub.sqlite".parse(),
            Ok(DatabaseUrl::Sqlite("hub.sqlite".into()))
        );
        assert!(matches!(
            "postgres://u@127.0.0.1:5432/hub".parse(),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::NoPath)
        );
        assert_eq!("".parse::<DatabaseUrl>(), Err(DatabaseUrlError::Empty));
        assert_eq!(
            "mysql://root:secret@db/x".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::Scheme("mysql".into()))
        );
    }

    #[test]
    fn the_password_is_never_shown() {
        let url: DatabaseUrl = "postgres://hub:s3cret@db:5432/hub".parse().unwrap();
        assert_eq!(format!("{url:?}"), "postgres://hub:***@db:5432/hub");
    }
}
