//! The holder page's link: `/p/<token>`, where the token is 128 random bits that name one pass.
//!
//! The page needs no key (it is the holder's), so it must not be found by anything a stranger
//! could guess or walk: not the pass id, not the extId (often a sequential order number). Every
//! pass gets its token where passes are written ([`crate::pass_store::upsert_pass`]), so a pass
//! issued here, imported or synced has one; the passes of an older store got theirs from the
//! migration that made the table.

use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;

use crate::store::StoreResult;

/// A holder link token: 32 lowercase hex digits (128 bits from the OS's RNG).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HolderToken(String);

impl HolderToken {
    pub const LEN: usize = 32;

    /// A new token from the operating system's RNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; Self::LEN / 2];
        OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// A token as it appears in a link; `None` for anything that cannot be one, so that a
    /// guessed path costs no lookup at all.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The holder page's path: `/p/<token>`.
    pub fn path(&self) -> String {
        format!("/p/{}", self.0)
    }
}

/// The token is a capability: whoever has it sees the holder's name and admission QR. It is
/// shown in full only where it is meant to go (a pass's `downloadUrl`), never in a log.
impl fmt::Debug for HolderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderToken({}…)", &self.0[..4])
    }
}

/// Gives the pass its token unless it has one (a pass keeps its link for life).
pub fn ensure(conn: &Connection, pass_id: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO holder_links (token, pass_id) VALUES (?1, ?2) ON CONFLICT(pass_id) DO NOTHING",
    )?
    .execute(params![HolderToken::generate().as_str(), pass_id])?;
    Ok(())
}

/// The pass a token names (one probe of the table's key).
pub fn pass_id_of(conn: &Connection, token: &HolderToken) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT pass_id FROM holder_links WHERE token = ?1")?
        .query_row([token.as_str()], |r| r.get(0))
        .optional()?)
}

/// A pass's token, for its `downloadUrl` (`None` only for a pass written behind the store's
/// back, without [`crate::pass_store::upsert_pass`]).
pub fn token_of(conn: &Connection, pass_id: &str) -> StoreResult<Option<HolderToken>> {
    Ok(conn
        .prepare_cached("SELECT token FROM holder_links WHERE pass_id = ?1")?
        .query_row([pass_id], |r| r.get(0))
        .optional()?
        .map(HolderToken))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::{Pass, PassStatus, PassType};
    use crate::store::Store;
    use crate::time::Timestamp;

    fn pass(id: &str, ext_id: &str) -> Pass {
        let now = Timestamp::from_unix_ms(1_700_000_000_000);
        Pass {
            ext_id: Some(ext_id.into()),
            status: PassStatus::Active,
            ..Pass::new(id, "t", PassType::new("storeCard"), now)
        }
    }

    fn store_with_template() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO templates (id, name, created_at, updated_at) VALUES ('t', 'Card', 1, 1)",
            )
            .unwrap();
        store
    }

    #[test]
    fn every_written_pass_gets_one_token_for_life() {
        let store = store_with_template();
        let conn = store.conn();
        let mut p = pass("p1", "1001");
        crate::pass_store::upsert_pass(conn, &p).unwrap();
        let token = token_of(conn, "p1").unwrap().expect("a token on insert");
        assert_eq!(HolderToken::parse(token.as_str()), Some(token.clone()));
        assert_eq!(pass_id_of(conn, &token).unwrap().as_deref(), Some("p1"));
        // An update (a re-import, a sync, a void) keeps the link the holder already has.
        p.status = PassStatus::Voided;
        crate::pass_store::upsert_pass(conn, &p).unwrap();
        assert_eq!(token_of(conn, "p1").unwrap(), Some(token.clone()));
        // Another pass gets another token.
        crate::pass_store::upsert_pass(conn, &pass("p2", "1002")).unwrap();
        assert_ne!(token_of(conn, "p2").unwrap(), Some(token));
    }

    #[test]
    fn only_a_token_shaped_value_is_looked_up() {
        for bad in [
            "",
            "p1",
            "1001",
            "0123456789abcdef0123456789abcde",   // 31
            "0123456789abcdef0123456789abcdef0", // 33
            "0123456789ABCDEF0123456789ABCDEF",  // upper case
            "0123456789abcdef0123456789abcdeg",
            "../0123456789abcdef0123456789abc",
        ] {
            assert_eq!(HolderToken::parse(bad), None, "{bad}");
        }
        let t = HolderToken::generate();
        assert_eq!(t.as_str().len(), 32);
        assert_eq!(HolderToken::parse(t.as_str()), Some(t.clone()));
        assert_ne!(HolderToken::generate(), t);
        assert!(!format!("{t:?}").contains(t.as_str()));
    }

    /// Passes written before the table existed get a token from the migration.
    #[test]
    fn the_migration_gives_existing_passes_a_token() {
        static DIR: include_dir::Dir<'_> =
            include_dir::include_dir!("$CARGO_MANIFEST_DIR/../migrations");
        let migrations = rusqlite_migration::Migrations::from_directory(&DIR).unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        migrations.to_version(&mut conn, 6).unwrap();
        conn.execute_batch(
            "INSERT INTO templates (id, name, created_at, updated_at) VALUES ('t', 'Card', 1, 1);
             INSERT INTO passes (id, ext_id, status, pass_type, template_id, created_at, updated_at)
                 VALUES ('p1', '1', 'active', 'storeCard', 't', 1, 1),
                        ('p2', '2', 'active', 'storeCard', 't', 1, 1);",
        )
        .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        let t1 = token_of(&conn, "p1").unwrap().unwrap();
        let t2 = token_of(&conn, "p2").unwrap().unwrap();
        assert_ne!(t1, t2);
        assert_eq!(HolderToken::parse(t1.as_str()), Some(t1.clone()));
        assert_eq!(pass_id_of(&conn, &t2).unwrap().as_deref(), Some("p2"));
    }
}
