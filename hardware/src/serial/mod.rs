//! Serial readers: a dot-origin VTAP on its USB CDC port (it decrypts Apple VAS and Google Smart
//! Tap itself and writes the pass value, tagged with a pass-type character) and serial barcode
//! scanners. Every read becomes the same [`crate::Scan`] the NFC readers emit, or a rejected
//! read with a reason.
//!
//! Pure parts, unit-tested without a port: [`framing`] (bytes → frames), [`message`]
//! (prefix / postfix, printable UTF-8), [`vtap`] (pass-type character → medium), [`decode`]
//! (the three together), [`port`] (path or USB ids), [`enumerate`] (sysfs). The device shell is
//! [`reader`]: a thread per port, events over a channel, reopening a port that comes back.

pub mod decode;
pub mod enumerate;
pub mod framing;
pub mod message;
pub mod port;
pub mod reader;
pub mod reject;
pub mod vtap;

pub use decode::{Decoder, Read, ReadConfig};
pub use enumerate::{list, PortInfo, Roots, UsbIds};
pub use framing::{Terminator, DEFAULT_MAX_FRAME};
pub use message::{unescape, Affixes};
pub use port::PortSpec;
pub use reader::{ReaderConfig, SerialEvent, SerialReader};
pub use reject::{RejectReason, Rejected};
pub use vtap::{Mapping, TypeCharAt};
