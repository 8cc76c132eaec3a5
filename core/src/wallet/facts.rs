//! What a wallet pass shows of one pass, whichever wallet it is for: Apple's `pass.json`
//! (`apple::PassInputs`) and Google's class and object (`google::GoogleInputs`) are both made
//! from these, each with its own issuer beside them.

use crate::loyalty::LoyaltyView;
use crate::pass::{Event, Pass, Template};
use crate::wallet::design::PassDesign;

/// One pass, its template and that template's design, its loyalty state and its event.
#[derive(Debug, Clone, Copy)]
pub struct PassFacts<'a> {
    pub pass: &'a Pass,
    pub template: &'a Template,
    pub design: &'a PassDesign,
    /// The pass's loyalty state (a store card's balance, stamps, rewards).
    pub loyalty: Option<&'a LoyaltyView>,
    /// The pass's event (a ticket's name, venue and start).
    pub event: Option<&'a Event>,
}

impl<'a> PassFacts<'a> {
    /// The facts without loyalty or event; set those with
    /// `PassFacts { loyalty: Some(..), ..PassFacts::new(..) }`.
    pub fn new(pass: &'a Pass, template: &'a Template, design: &'a PassDesign) -> Self {
        Self {
            pass,
            template,
            design,
            loyalty: None,
            event: None,
        }
    }
}
