//! Wallet passes made on the counter, as pure functions: bytes out, no I/O.
//!
//! `design`: how a template looks on a phone (colours, the fields of each row), in PassEntry's
//! template vocabulary, shared by both wallets. `apple`: the signed `.pkpass` (pass.json,
//! manifest.json, the detached CMS signature, the zip). Where the certificates come from and
//! where the file goes (routes, the holder page, the update web service) is the service's.

pub mod apple;
pub mod design;

pub use design::{DesignError, FieldDef, HexColor, PassDesign};
