//! Enrollment: a counter trades a one-time token (from `passdesk hub enroll`) for its node
//! credential, and registers its PD1 public key, which the hub writes in the log as a
//! `nodeKey` change so every counter learns it.

use crate::storage::{EnrollRefusal, NewNode};
use crate::{secret, Hub, HubError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use passdesk_core::sync::wire::{EnrollRequest, EnrollResponse, HUB_NODE_ID};
use passdesk_core::Timestamp;

/// The longest node id or key id accepted.
pub const MAX_ID_CHARS: usize = 128;

/// Why an enrollment was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// A field that cannot be what it says: `field` is its JSON pointer.
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("{0}")]
    BadToken(&'static str),
    #[error("node {0:?} is enrolled already")]
    NodeTaken(String),
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// An id as the log carries it: 1 to [`MAX_ID_CHARS`] printable characters, no spaces.
fn check_id(field: &'static str, value: &str) -> Result<(), EnrollError> {
    let ok = !value.is_empty()
        && value.chars().count() <= MAX_ID_CHARS
        && value.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(EnrollError::Invalid {
            field,
            why: format!("must be 1 to {MAX_ID_CHARS} printable ASCII characters without spaces"),
        })
    }
}

/// A PD1 public key: a SEC1 compressed P-256 point, base64url without padding.
fn check_public_key(value: &str) -> Result<(), EnrollError> {
    let invalid = |why: &str| EnrollError::Invalid {
        field: "/publicKey",
        why: why.to_owned(),
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| invalid("not base64url without padding"))?;
    if bytes.len() != 33 {
        return Err(invalid("not a compressed SEC1 point (33 bytes)"));
    }
    p256::PublicKey::from_sec1_bytes(&bytes).map_err(|_| invalid("not a point on P-256"))?;
    Ok(())
}

impl Hub {
    /// Enrolls the counter of `req` with its token, in one transaction (the node, the token
    /// used up, its `nodeKey` change); refused, nothing is written.
    pub async fn enroll(
        &self,
        req: EnrollRequest,
        now: Timestamp,
    ) -> Result<EnrollResponse, EnrollError> {
        check_id("/nodeId", &req.node_id)?;
        if req.node_id == HUB_NODE_ID {
            return Err(EnrollError::Invalid {
                field: "/nodeId",
                why: format!("{HUB_NODE_ID:?} is the hub's own"),
            });
        }
        check_id("/keyId", &req.key_id)?;
        check_public_key(&req.public_key)?;
        let Some(token_hash) = secret::hash(&req.token) else {
            return Err(EnrollError::BadToken("no such enrollment token"));
        };
        let credential = secret::generate(secret::CREDENTIAL_PREFIX);
        let credential_hash = secret::hash(&credential).unwrap_or_default();
        let node = NewNode {
            token_hash,
            node_id: req.node_id.clone(),
            key_id: req.key_id,
            public_key: req.public_key,
            credential_hash,
        };
        match self
            .storage()
            .enroll(node, now)
            .await
            .map_err(HubError::from)?
        {
            Ok(enrolled) => {
                self.appended(enrolled.seq);
                tracing::info!(node_id = %req.node_id, name = %enrolled.name, "node enrolled");
                Ok(EnrollResponse {
                    node_id: req.node_id,
                    node_name: enrolled.name,
                    credential,
                    hub_id: self.hub_id().to_owned(),
                })
            }
            Err(EnrollRefusal::BadToken(why)) => Err(EnrollError::BadToken(why)),
            Err(EnrollRefusal::NodeTaken) => Err(EnrollError::NodeTaken(req.node_id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys_are_checked() {
        assert!(check_id("/nodeId", "node-01").is_ok());
        assert!(check_id("/nodeId", "").is_err());
        assert!(check_id("/nodeId", "has space").is_err());
        assert!(check_id("/nodeId", &"x".repeat(129)).is_err());
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let point = secret.public_key().to_sec1_bytes();
        let compressed = p256::EncodedPoint::from(secret.public_key()).compress();
        assert_eq!(point.len(), 65);
        assert!(check_public_key(&URL_SAFE_NO_PAD.encode(compressed.as_bytes())).is_ok());
        assert!(check_public_key(&URL_SAFE_NO_PAD.encode(&point)).is_err());
        assert!(check_public_key("not base64!").is_err());
    }
}
