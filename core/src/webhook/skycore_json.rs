//! The skycore_json webhook format (being written: renders nothing yet).

use super::event::Event;
use super::Rendered;

pub fn render(_event: &Event) -> Option<Rendered> {
    None
}
