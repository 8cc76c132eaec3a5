//! What a pass's wallet file is made from, read in one go from the store: the pass, its
//! template and that template's design, its loyalty state, its event, and its Apple
//! `authenticationToken` if it has one. Reading is all this does; the signing happens after,
//! off the store's connections.

use passdesk_core::loyalty::{self, LoyaltyView};
use passdesk_core::pass::{Event, Pass, Template};
use passdesk_core::rusqlite::{Connection, OptionalExtension};
use passdesk_core::store::StoreResult;
use passdesk_core::wallet::apple_token::{self, AppleAuthToken};
use passdesk_core::wallet::{PassDesign, PassFacts};
use passdesk_core::{catalog, pass_store};

/// A pass and everything its wallet file shows.
#[derive(Debug, Clone)]
pub struct PassRecord {
    pub pass: Pass,
    pub template: Template,
    pub design: PassDesign,
    pub loyalty: Option<LoyaltyView>,
    pub event: Option<Event>,
    /// The pass's Apple `authenticationToken`; `None` until its first `.pkpass` with a web
    /// service is built.
    pub token: Option<AppleAuthToken>,
}

impl PassRecord {
    /// What both wallets show of the pass.
    pub fn facts(&self) -> PassFacts<'_> {
        PassFacts {
            loyalty: self.loyalty.as_ref(),
            event: self.event.as_ref(),
            ..PassFacts::new(&self.pass, &self.template, &self.design)
        }
    }
}

/// The pass with this id (exactly its id: the routes resolve extIds first) and what its file
/// shows; `None` when there is no such pass.
pub fn read(conn: &Connection, pass_id: &str) -> StoreResult<Option<PassRecord>> {
    let Some(pass) = pass_store::get_pass(conn, pass_id)? else {
        return Ok(None);
    };
    // A template removed from under its passes still leaves a pass worth showing: its type is
    // the pass's own.
    let template = catalog::get_template(conn, &pass.template_id)?.unwrap_or_else(|| Template {
        id: pass.template_id.clone(),
        name: String::new(),
        pass_type: pass.pass_type.clone(),
    });
    let design = template_design(conn, &template.id)?;
    let loyalty = loyalty::view(conn, &pass.id, &pass.template_id)?;
    let event = match &pass.event_id {
        Some(id) => catalog::get_event(conn, id)?,
        None => None,
    };
    let token = apple_token::token_of(conn, &pass.id)?;
    Ok(Some(PassRecord {
        pass,
        template,
        design,
        loyalty,
        event,
        token,
    }))
}

/// The template's design (`templates.design`, a PassEntry template document). None, or one
/// that does not read, is the default layout: a pass is still worth issuing with it, so an
/// unreadable design is a warning naming the template, not a refusal.
fn template_design(conn: &Connection, template_id: &str) -> StoreResult<PassDesign> {
    let stored: Option<Option<String>> = conn
        .prepare_cached("SELECT design FROM templates WHERE id = ?1")?
        .query_row([template_id], |r| r.get(0))
        .optional()?;
    let Some(text) = stored.flatten().filter(|t| !t.trim().is_empty()) else {
        return Ok(PassDesign::default());
    };
    let design = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| e.to_string())
        .and_then(|doc| PassDesign::from_passentry(&doc).map_err(|e| e.to_string()));
    Ok(design.unwrap_or_else(|why| {
        tracing::warn!(
            template_id,
            error = %why,
            "the template's design does not read; its wallet passes get the default layout"
        );
        PassDesign::default()
    }))
}
