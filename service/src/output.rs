//! Printing results: one JSON document per result on stdout, or words for a person.

use passdesk_core::decision::Warning;
use passdesk_core::{Decision, Verdict};
use serde::Serialize;
use std::io::{IsTerminal, Write};

pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// One JSON object per decision.
    #[default]
    Json,
    /// One coloured line per decision, for a person at a terminal.
    Text,
}

/// A decision in words, green or red when the terminal shows colour, with local times.
pub fn decision_line(d: &Decision) -> String {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (badge, paint) = match (d.verdict, d.duplicate_of.is_some()) {
        (Verdict::Accept, false) => (" ACCEPT ", "\x1b[1;97;42m"),
        (Verdict::Accept, true) => (" REPEAT ", "\x1b[1;30;43m"),
        (Verdict::Reject, _) => (" REJECT ", "\x1b[1;97;41m"),
    };
    let badge = if colour {
        format!("{paint}{badge}\x1b[0m")
    } else {
        format!("[{}]", badge.trim())
    };
    let who = d
        .pass
        .as_ref()
        .map(|p| {
            let name = p.holder_name.as_deref().unwrap_or(&p.id);
            let what = p
                .event_name
                .as_deref()
                .or(p.template_name.as_deref())
                .unwrap_or("");
            format!("{name} · {what}")
        })
        .unwrap_or_else(|| "—".to_owned());
    let mut message = d.message.clone();
    if let Some(prev) = &d.previous_use {
        if let Some(local) = prev.at.to_datetime() {
            let local = local.with_timezone(&chrono::Local).format("%H:%M");
            message = message.replace(
                &prev
                    .at
                    .to_datetime()
                    .map(|t| t.format("%H:%M UTC").to_string())
                    .unwrap_or_default(),
                &local.to_string(),
            );
        }
    }
    let warnings: Vec<&str> = d
        .warnings
        .iter()
        .map(|w| match w {
            Warning::RemovedFromWallet => "removed from wallet",
            Warning::NotInCache => "validated offline by signature",
            Warning::TypedId => "typed pass number: check the person",
        })
        .collect();
    let warnings = if warnings.is_empty() {
        String::new()
    } else {
        format!("  ({})", warnings.join(", "))
    };
    let loyalty = d
        .loyalty
        .as_ref()
        .map(|l| {
            let mut parts = vec![format!("{} pts", l.balance)];
            if let (Some(on_card), Some(size)) = (l.stamps_on_card, l.card_size) {
                parts.push(format!("{on_card}/{size} stamps"));
            }
            let ready: Vec<&str> = l
                .rewards
                .iter()
                .map(|r| r.tier_name.as_str())
                .chain(l.claimable.iter().map(|t| t.name.as_str()))
                .collect();
            if !ready.is_empty() {
                parts.push(format!("can redeem: {}", ready.join(", ")));
            }
            format!("  [{}]", parts.join(" · "))
        })
        .unwrap_or_default();
    format!(
        "{badge} {message:<38} {who}  @{}{loyalty}{warnings}",
        d.reader_id
    )
}
