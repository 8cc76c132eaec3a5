//! Which port a reader uses: a fixed path, or a USB device by its ids, so that a VTAP that comes
//! back as /dev/ttyACM1 after a replug is still found.

use super::enumerate::{self, PortInfo, Roots};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Path(PathBuf),
    Usb {
        vid: u16,
        pid: u16,
        serial: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("USB id must be VID:PID or VID:PID/SERIAL with 4-digit hex ids (1fc9:0117), not {0:?}")]
pub struct BadUsbId(String);

impl PortSpec {
    /// Parses `VID:PID[/SERIAL]`.
    pub fn usb(text: &str) -> Result<Self, BadUsbId> {
        let bad = || BadUsbId(text.to_owned());
        let (ids, serial) = match text.split_once('/') {
            Some((ids, serial)) if !serial.is_empty() => (ids, Some(serial.to_owned())),
            Some(_) => return Err(bad()),
            None => (text, None),
        };
        let (vid, pid) = ids.split_once(':').ok_or_else(bad)?;
        let hex = |s: &str| {
            (s.len() == 4)
                .then(|| u16::from_str_radix(s, 16).ok())
                .flatten()
                .ok_or_else(bad)
        };
        Ok(Self::Usb {
            vid: hex(vid)?,
            pid: hex(pid)?,
            serial,
        })
    }

    /// The device node for this spec among `ports`, if it is plugged in.
    pub fn resolve_in(&self, ports: &[PortInfo]) -> Option<PathBuf> {
        match self {
            Self::Path(p) => Some(p.clone()),
            Self::Usb { vid, pid, serial } => ports
                .iter()
                .find(|p| {
                    p.usb.as_ref().is_some_and(|u| {
                        u16::from_str_radix(&u.vid, 16).ok() == Some(*vid)
                            && u16::from_str_radix(&u.pid, 16).ok() == Some(*pid)
                            && serial.as_ref().is_none_or(|s| u.serial.as_ref() == Some(s))
                    })
                })
                .map(|p| p.path.clone()),
        }
    }

    /// The device node for this spec on this machine, looked up afresh (ports are sorted: with
    /// two identical devices and no serial number, the first one wins).
    pub fn resolve(&self, roots: &Roots) -> Option<PathBuf> {
        match self {
            Self::Path(p) => Some(p.clone()),
            Self::Usb { .. } => self.resolve_in(&enumerate::list(roots)),
        }
    }

    pub fn path(p: impl AsRef<Path>) -> Self {
        Self::Path(p.as_ref().to_path_buf())
    }
}

impl FromStr for PortSpec {
    type Err = BadUsbId;
    /// `usb:VID:PID[/SERIAL]` or a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("usb:") {
            Some(ids) => Self::usb(ids),
            None => Ok(Self::Path(s.into())),
        }
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => write!(f, "{}", p.display()),
            Self::Usb { vid, pid, serial } => {
                write!(f, "usb:{vid:04x}:{pid:04x}")?;
                match serial {
                    Some(s) => write!(f, "/{s}"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serial::enumerate::{list_in, tests::fake_sys};

    #[test]
    fn usb_ids_parse_and_print() {
        for s in ["usb:1fc9:0117", "usb:0403:6001/A1B2"] {
            assert_eq!(s.parse::<PortSpec>().unwrap().to_string(), s);
        }
        assert_eq!(
            PortSpec::usb("1FC9:0117").unwrap().to_string(),
            "usb:1fc9:0117"
        );
        for bad in ["1fc9", "1fc9:117", "1fc9:0117/", "xxxx:0117", "1fc9:01170"] {
            assert!(PortSpec::usb(bad).is_err(), "{bad}");
        }
        assert_eq!(
            "/dev/ttyACM0".parse::<PortSpec>().unwrap(),
            PortSpec::path("/dev/ttyACM0")
        );
    }

    #[test]
    fn usb_ids_find_the_node_whatever_its_number() {
        let sys = fake_sys();
        let ports = list_in(sys.path(), Path::new("/dev"));
        let find = |s: &str| PortSpec::usb(s).unwrap().resolve_in(&ports);
        assert_eq!(find("1fc9:0117"), Some("/dev/ttyACM0".into()));
        assert_eq!(find("1fc9:0117/VT-0042"), Some("/dev/ttyACM0".into()));
        assert_eq!(find("1fc9:0117/other"), None);
        assert_eq!(find("0403:6001"), Some("/dev/ttyUSB0".into()));
        assert_eq!(find("dead:beef"), None);
    }
}
