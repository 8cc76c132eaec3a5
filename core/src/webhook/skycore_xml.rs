//! The skycore_xml webhook format.

use super::event::Event;
use super::Rendered;

pub fn render(event: &Event) -> Option<Rendered> {
    todo!("formats helper: {event:?}")
}
