//! Wallet passes made on the counter: bytes out, and no I/O but one SQLite table.
//!
//! `design`: how a template looks on a phone (colours, the fields of each row), in PassEntry's
//! template vocabulary, shared by both wallets; `facts`: what both wallets show of a pass. `apple`: the signed `.pkpass` (pass.json,
//! manifest.json, the detached CMS signature, the zip), pure. `apple_token`: each pass's
//! `authenticationToken` for Apple's pass update web service (`wallet_apple_tokens`). Where
//! the certificates come from and where the file goes (routes, the holder page, the update
//! web service) is the service's.

pub mod apple;
pub mod apple_token;
pub mod apple_updates;
pub mod design;
pub mod facts;
pub mod google;

pub use design::{DesignError, FieldDef, HexColor, PassDesign};
pub use facts::PassFacts;
