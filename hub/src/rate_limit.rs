//! A limit per client address on the routes that answer without a credential (health, the
//! document, enrollment), so nobody can keep the hub busy with them: GCRA buckets from
//! `governor`, keyed by the peer's address (an IPv6 client by its /64). Pushes and pulls carry
//! a credential and are not limited here.

use crate::server::SyncError;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Requests one address may make at once, then per minute: ample for a load balancer's
/// health probe and a few counters joining.
const BURST: NonZeroU32 = NonZeroU32::new(60).unwrap();
const PER_MINUTE: NonZeroU32 = NonZeroU32::new(600).unwrap();

pub struct PublicLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for PublicLimit {
    fn default() -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(PER_MINUTE).allow_burst(BURST)),
            clock: DefaultClock::default(),
        }
    }
}

impl PublicLimit {
    /// `Err(seconds to wait)` when `peer` is past its limit.
    fn check(&self, peer: IpAddr) -> Result<(), u64> {
        self.limiter
            .check_key(&client_key(peer))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
            })
    }
}

/// An IPv4 client (also as an IPv4-mapped IPv6 address) by its address; an IPv6 client by its
/// /64: a host picks any address in its prefix at will.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The layer on the public routes: 429 with `Retry-After` past the limit. A request whose peer
/// is unknown (the router driven without a listener) is not limited.
pub async fn public(limit: Arc<PublicLimit>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(Err(wait)) = peer.map(|p| limit.check(p)) {
        let mut resp = SyncError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from this address; try again in {wait} s"),
        )
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return resp;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait_and_each_address_its_own() {
        let limit = PublicLimit::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..BURST.get() {
            assert!(limit.check(a).is_ok());
        }
        assert!(limit.check(a).unwrap_err() >= 1);
        assert!(limit.check("192.0.2.2".parse().unwrap()).is_ok());
        // One /64 is one client.
        let v6 = |s: &str| -> IpAddr { s.parse().unwrap() };
        assert_eq!(
            client_key(v6("2001:db8::1")),
            client_key(v6("2001:db8::ffff:1"))
        );
    }
}
