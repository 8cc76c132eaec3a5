//! Retention: the outbox and the delivery log pruned after a period, keeping what a loyalty
//! replay needs (written by the delivery helper).
