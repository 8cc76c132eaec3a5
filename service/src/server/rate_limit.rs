//! Per client address limits on what answers without a key: the holder page, `/health`, the
//! UI's files and the OpenAPI document (the public routes), and requests refused for a missing
//! or wrong key (key guessing). GCRA buckets from `governor`, keyed by the peer's address (an
//! IPv6 client by its /64, which one machine owns whole). A request with a valid key is never
//! limited: a busy gate must never be throttled.
//!
//! Past a limit the answer is 429 with `Retry-After`, and a log line (at most one a minute per
//! address, so that a flood does not become a flood of log lines).

use super::error::ApiError;
use super::state::AppState;
use crate::config::RateLimitConfig;
use axum::extract::{ConnectInfo, Extension, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which limit a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Public,
    Refused,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Refused => "refused_key",
        }
    }
}

pub struct RateLimits {
    public: DefaultKeyedRateLimiter<IpAddr>,
    refused: DefaultKeyedRateLimiter<IpAddr>,
    /// One log line a minute per address.
    log: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    /// Every so many checks, addresses whose buckets are full again are forgotten: the
    /// buckets' memory stays bounded by the addresses seen recently.
    checks: AtomicU32,
}

const FORGET_EVERY: u32 = 4096;

fn quota(burst: NonZeroU32, per_minute: NonZeroU32) -> Quota {
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        let one = NonZeroU32::MIN;
        Self {
            public: RateLimiter::keyed(quota(config.public_burst, config.public_per_minute)),
            refused: RateLimiter::keyed(quota(config.refused_burst, config.refused_per_minute)),
            log: RateLimiter::keyed(quota(one, one)),
            clock: DefaultClock::default(),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one request of `kind` from `peer`'s bucket: `Err(seconds to wait)` past the limit.
    pub fn check(&self, kind: Kind, peer: IpAddr) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            for limiter in [&self.public, &self.refused, &self.log] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        let key = client_key(peer);
        let limiter = match kind {
            Kind::Public => &self.public,
            Kind::Refused => &self.refused,
        };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if self.log.check_key(&key).is_ok() {
                tracing::warn!(client = %key, limit = kind.as_str(), retry_after_secs = secs,
                    "too many requests from this address; answering 429 (logged once a minute per address)");
            }
            secs.max(1)
        })
    }

    /// The 429 for a request from `peer` past its `kind` limit, or `None` while under it. A
    /// request whose peer is unknown (the router driven without a listener) is not limited.
    pub fn refuse(&self, kind: Kind, peer: Option<IpAddr>) -> Option<ApiError> {
        let wait = self.check(kind, peer?).err()?;
        Some(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from this address; try again in {wait} s"),
            )
            .retry_after(u32::try_from(wait).unwrap_or(u32::MAX)),
        )
    }
}

/// The peer's address from the connection, when the service was started with it.
pub fn peer(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// An IPv4 client (also when it came as an IPv4-mapped IPv6 address) by its address; an IPv6
/// client by its /64: a host picks any address in its prefix at will.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The layer on the public routes (`server::access`; it finds the state as an extension).
pub async fn public(Extension(state): Extension<AppState>, req: Request, next: Next) -> Response {
    match state.limits.refuse(Kind::Public, peer(req.extensions())) {
        Some(limited) => limited.into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32) -> RateLimits {
        let n = |v| NonZeroU32::new(v).unwrap();
        RateLimits::new(&RateLimitConfig {
            public_burst: n(burst),
            public_per_minute: n(1),
            refused_burst: n(1),
            refused_per_minute: n(1),
        })
    }

    #[test]
    fn a_burst_passes_then_the_address_waits() {
        let l = limits(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(Kind::Public, a), Ok(()));
        }
        let wait = l.check(Kind::Public, a).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another address, and another kind, have buckets of their own.
        assert_eq!(l.check(Kind::Public, b), Ok(()));
        assert_eq!(l.check(Kind::Refused, a), Ok(()));
        assert!(l.check(Kind::Refused, a).is_err());
    }

    #[test]
    fn an_ipv6_host_is_one_client_across_its_prefix() {
        let l = limits(1);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(l.check(Kind::Public, one), Ok(()));
        assert!(l.check(Kind::Public, other).is_err());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let plain: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(l.check(Kind::Public, mapped), Ok(()));
        assert!(l.check(Kind::Public, plain).is_err());
    }

    #[test]
    fn an_unknown_peer_is_not_limited() {
        let l = limits(1);
        for _ in 0..3 {
            assert!(l.refuse(Kind::Public, None).is_none());
        }
    }
}
