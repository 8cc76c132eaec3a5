//! Which wallet the device that opened a holder page takes, told from its `User-Agent` as
//! PassEntry's download page does (seed `passentry-api.txt`, `getMobileOS`): "android"
//! anywhere → Google Wallet, else "iPhone" → Apple Wallet, in any case; we add the iPad and
//! the iPod touch, which run Apple Wallet too. Anything else (a desktop, no header, bytes
//! that are not text) is `Other`: the page offers every wallet and its own QR, so the
//! customer opens it on their phone.

use axum::http::HeaderValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phone {
    Android,
    Apple,
    Other,
}

impl Phone {
    /// The device behind a `User-Agent` header. Reads bytes, so no header value can fail it;
    /// its length is bounded by the server's header limits.
    pub fn from_user_agent(ua: Option<&HeaderValue>) -> Self {
        let Some(ua) = ua.map(HeaderValue::as_bytes) else {
            return Phone::Other;
        };
        // The seed's order: an Android phone whose browser also claims an iPhone is Android.
        if contains_ignore_case(ua, b"android") {
            Phone::Android
        } else if [&b"iphone"[..], b"ipad", b"ipod"]
            .iter()
            .any(|n| contains_ignore_case(ua, n))
        {
            Phone::Apple
        } else {
            Phone::Other
        }
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(ua: &[u8]) -> Phone {
        Phone::from_user_agent(Some(&HeaderValue::from_bytes(ua).unwrap()))
    }

    #[test]
    fn phones_are_told_apart_as_the_download_page_does() {
        let iphone = b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        let ipad = b"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
        let android = b"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36";
        let desktop = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
        assert_eq!(of(iphone), Phone::Apple);
        assert_eq!(of(ipad), Phone::Apple);
        assert_eq!(of(android), Phone::Android);
        assert_eq!(of(desktop), Phone::Other);
        assert_eq!(of(b"ANDROID"), Phone::Android);
        assert_eq!(of(b"iphone"), Phone::Apple);
        // Both words: Android first, as the seed's script.
        assert_eq!(of(b"Android; like iPhone"), Phone::Android);
    }

    #[test]
    fn no_odd_header_fails() {
        assert_eq!(Phone::from_user_agent(None), Phone::Other);
        assert_eq!(of(b""), Phone::Other);
        assert_eq!(of(b"a"), Phone::Other);
        assert_eq!(of(b"\xff\xfe iPhone \x80"), Phone::Apple);
        assert_eq!(of(&b"x".repeat(100_000)), Phone::Other);
    }
}
