//! The `.pkpass` file: a zip of `pass.json`, the images, `manifest.json` and `signature`.

use super::manifest::manifest_json;
use super::pass_json::{pass_json, PassInputs};
use super::sign::PassSigner;
use super::WalletError;
use crate::time::Timestamp;
use chrono::{Datelike, Timelike};
use std::collections::BTreeMap;
use std::io::Write;

/// How a `.pkpass` is served (`Content-Type`).
pub const PKPASS_MEDIA_TYPE: &str = "application/vnd.apple.pkpass";

/// The images Apple reads, each at 1x, 2x and 3x.
const IMAGE_KINDS: [&str; 6] = ["icon", "logo", "strip", "thumbnail", "background", "footer"];
/// One image's limit: a pass is downloaded whole onto a phone, often over a shop's Wi-Fi.
pub const IMAGE_MAX_BYTES: usize = 1 << 20;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The icon every pass gets when its template has none (Apple refuses a pass without
/// `icon.png`): a plain disc.
const DEFAULT_ICONS: [(&str, &[u8]); 3] = [
    ("icon.png", include_bytes!("default-icon.png")),
    ("icon@2x.png", include_bytes!("default-icon@2x.png")),
    ("icon@3x.png", include_bytes!("default-icon@3x.png")),
];

/// A template's images by their file names in the package (`logo.png`, `icon@2x.png`, …),
/// each checked to be a PNG of at most [`IMAGE_MAX_BYTES`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassImages {
    files: BTreeMap<String, Vec<u8>>,
}

impl PassImages {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an image. `name` is one of `icon`, `logo`, `strip`, `thumbnail`,
    /// `background`, `footer`, with `@2x` or `@3x` or neither, and `.png`.
    pub fn insert(&mut self, name: &str, png: Vec<u8>) -> Result<&mut Self, WalletError> {
        let refuse = |detail: String| WalletError::Image {
            name: name.chars().take(64).collect(),
            detail,
        };
        let known = IMAGE_KINDS.iter().any(|kind| {
            ["", "@2x", "@3x"]
                .iter()
                .any(|scale| name == format!("{kind}{scale}.png"))
        });
        if !known {
            return Err(refuse(format!(
                "not an image Apple Wallet reads ({}, each name.png, name@2x.png or name@3x.png)",
                IMAGE_KINDS.join(", ")
            )));
        }
        if !png.starts_with(PNG_SIGNATURE) {
            return Err(refuse("not a PNG".into()));
        }
        if png.len() > IMAGE_MAX_BYTES {
            return Err(refuse(format!(
                "{} bytes; at most {IMAGE_MAX_BYTES}",
                png.len()
            )));
        }
        self.files.insert(name.to_owned(), png);
        Ok(self)
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// The images with the built-in icon added where the template gave no `icon.png`.
    fn with_default_icon(&self) -> BTreeMap<&str, &[u8]> {
        let mut all: BTreeMap<&str, &[u8]> = self
            .files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        if !all.contains_key("icon.png") {
            for (name, png) in DEFAULT_ICONS {
                all.entry(name).or_insert(png);
            }
        }
        all
    }
}

/// The signed `.pkpass` of a pass: `pass.json` from the inputs, the images (the built-in icon
/// when there is no `icon.png`), `manifest.json`, and `signature` signed `now` by `signer`.
/// Refused when the certificate names another Pass Type ID than `[wallet.apple]`: the phone
/// would refuse that pass.
pub fn build_pkpass(
    inputs: &PassInputs<'_>,
    images: &PassImages,
    signer: &PassSigner,
    now: Timestamp,
) -> Result<Vec<u8>, WalletError> {
    if let Some(certified) = signer.pass_type_id() {
        if certified != inputs.identity.pass_type_id {
            return Err(WalletError::Credential {
                what: "certificate",
                detail: format!(
                    "made for Pass Type ID {certified:?}, but [wallet.apple] pass_type_id is {:?}",
                    inputs.identity.pass_type_id
                ),
            });
        }
    }
    let pass = pass_json(inputs)?.to_bytes();
    let images = images.with_default_icon();
    let mut files: Vec<(&str, &[u8])> = Vec::with_capacity(images.len() + 3);
    files.push(("pass.json", &pass));
    files.extend(images.iter().map(|(n, b)| (*n, *b)));
    let manifest = manifest_json(files.iter().copied());
    let signature = signer.sign_manifest(&manifest, now)?;
    files.push(("manifest.json", &manifest));
    files.push(("signature", &signature));
    zip(&files, now)
}

/// The files as a zip, deflated, each dated `now` (UTC).
fn zip(files: &[(&str, &[u8])], now: Timestamp) -> Result<Vec<u8>, WalletError> {
    use zip::write::SimpleFileOptions;
    let err = |e: &dyn std::fmt::Display| WalletError::Zip(e.to_string());
    let mut options =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    if let Some(t) = now.to_datetime().and_then(|t| {
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).ok()?,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
        )
        .ok()
    }) {
        options = options.last_modified_time(t);
    }
    let size: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(size + 1024)));
    for (name, bytes) in files {
        out.start_file(*name, options).map_err(|e| err(&e))?;
        out.write_all(bytes).map_err(|e| err(&e))?;
    }
    Ok(out.finish().map_err(|e| err(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_pngs_and_the_default_icon_fills_in() {
        let mut images = PassImages::new();
        let png = DEFAULT_ICONS[0].1.to_vec();
        images.insert("logo.png", png.clone()).unwrap();
        images.insert("logo@2x.png", png.clone()).unwrap();
        let e = images.insert("logo@4x.png", png.clone()).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("image logo@4x.png: not an image Apple Wallet reads"));
        let e = images.insert("../pass.json", png.clone()).unwrap_err();
        assert!(e.to_string().contains("not an image"), "{e}");
        let e = images.insert("strip.png", b"GIF89a".to_vec()).unwrap_err();
        assert_eq!(e.to_string(), "image strip.png: not a PNG");
        let mut big = png.clone();
        big.resize(IMAGE_MAX_BYTES + 1, 0);
        assert!(images.insert("strip.png", big).is_err());
        let all = images.with_default_icon();
        let names: Vec<_> = all.keys().copied().collect();
        assert_eq!(
            names,
            [
                "icon.png",
                "icon@2x.png",
                "icon@3x.png",
                "logo.png",
                "logo@2x.png"
            ]
        );
        // A template's own icon is kept, and nothing of the default is mixed in.
        images.insert("icon.png", png.clone()).unwrap();
        let names: Vec<_> = images.with_default_icon().keys().copied().collect();
        assert_eq!(names, ["icon.png", "logo.png", "logo@2x.png"]);
    }

    #[test]
    fn the_default_icons_are_pngs_of_apple_sizes() {
        for ((name, png), side) in DEFAULT_ICONS.iter().zip([29u32, 58, 87]) {
            assert!(png.starts_with(PNG_SIGNATURE), "{name}");
            let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
            let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
            assert_eq!((w, h), (side, side), "{name}");
        }
    }
}
