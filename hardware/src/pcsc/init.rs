//! Per-reader init commands: what some readers need before they see phones, for instance
//! Apple's ECP polling frame switched on. Escape commands go to the reader itself through
//! `SCardControl` when it appears (plugged in, pcscd back); init APDUs go to every card or
//! phone right after connecting, before the tap is read. A failing one is reported and the
//! reader keeps working: a tap is still read.

use super::CardTransport;
use crate::nfc::apdu::{Response, StatusWord};
use crate::nfc::ApduTransport;
use pcsc::{Context, Disposition, Protocols, ShareMode};
use std::ffi::CStr;
use thiserror::Error;

/// Init commands for the readers whose PC/SC name contains `reader`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReaderInit {
    pub reader: String,
    /// Sent in order when the reader appears.
    pub escapes: Vec<EscapeCommand>,
    /// Sent in order on every connect to a card or phone, before reading it.
    pub apdus: Vec<InitApdu>,
}

impl ReaderInit {
    pub fn applies_to(&self, reader_name: &str) -> bool {
        reader_name.contains(self.reader.as_str())
    }
}

/// `SCardControl(SCARD_CTL_CODE(function), data)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeCommand {
    /// The n of `SCARD_CTL_CODE(n)`; 3500 is the CCID escape on pcsc-lite (ACS and others).
    pub function: u32,
    pub data: Vec<u8>,
    /// When set, the reader's answer must start with these bytes.
    pub expect: Option<Vec<u8>>,
}

/// A command APDU and the status word it must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitApdu {
    pub apdu: Vec<u8>,
    pub expect_sw: StatusWord,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InitError {
    #[error("escape command #{index} (SCardControl, SCARD_CTL_CODE({function})) failed: {detail}")]
    Escape {
        index: usize,
        function: u32,
        detail: String,
    },
    #[error("init APDU #{index} failed: {detail}")]
    Apdu { index: usize, detail: String },
}

/// Sends every escape command of `inits` that applies to `name`, over a direct connection (no
/// card needed). Stops at the first failure.
pub(crate) fn run_escapes(
    ctx: &Context,
    name: &CStr,
    inits: &[ReaderInit],
) -> Result<(), InitError> {
    let label = name.to_string_lossy();
    let escapes: Vec<&EscapeCommand> = inits
        .iter()
        .filter(|i| i.applies_to(&label))
        .flat_map(|i| &i.escapes)
        .collect();
    let Some(first) = escapes.first() else {
        return Ok(());
    };
    let card = ctx
        .connect(name, ShareMode::Direct, Protocols::UNDEFINED)
        .map_err(|e| InitError::Escape {
            index: 1,
            function: first.function,
            detail: format!("direct connection refused: {e}"),
        })?;
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut result = Ok(());
    for (i, esc) in escapes.iter().enumerate() {
        let fail = |detail: String| InitError::Escape {
            index: i + 1,
            function: esc.function,
            detail,
        };
        let code = pcsc::ctl_code(esc.function.into());
        match card.control(code, &esc.data, &mut buf) {
            Ok(answer) => {
                if let Some(want) = &esc.expect {
                    if !answer.starts_with(want) {
                        result = Err(fail(format!(
                            "answer {} does not start with {}",
                            hex(answer),
                            hex(want)
                        )));
                        break;
                    }
                }
                tracing::debug!(reader = %label, index = i + 1, answer = %hex(answer), "escape command sent");
            }
            Err(e) => {
                result = Err(fail(e.to_string()));
                break;
            }
        }
    }
    let _ = card.disconnect(Disposition::LeaveCard);
    result
}

/// Sends every init APDU that applies to `name` to the connected card; stops at the first
/// failure.
pub(crate) fn run_apdus(
    t: &mut CardTransport<'_>,
    name: &str,
    inits: &[ReaderInit],
) -> Result<(), InitError> {
    for (i, cmd) in inits
        .iter()
        .filter(|i| i.applies_to(name))
        .flat_map(|i| &i.apdus)
        .enumerate()
    {
        let fail = |detail: String| InitError::Apdu {
            index: i + 1,
            detail,
        };
        let raw = t.transmit(&cmd.apdu).map_err(|e| fail(e.to_string()))?;
        let resp = Response::parse(&raw).map_err(|e| fail(e.to_string()))?;
        if resp.sw != cmd.expect_sw {
            return Err(fail(format!(
                "status {} where {} was expected",
                resp.sw, cmd.expect_sw
            )));
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}
