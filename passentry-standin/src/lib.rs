//! A stand-in for PassEntry's cloud API on loopback, written from the seed
//! (`shared/seeds/passentry-api.txt`): its paths, its JSON:API pages, its errors, a rate limit
//! answering 429, an outage, pages that change between requests. The PassEntry cloud cannot run
//! here; this is the one fake the tests allow, and it is built from the document, not from our
//! client.
