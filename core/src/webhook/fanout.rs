//! The fan-out: the outbox's new events become deliveries, one per subscription that wants
//! each, rendered in its format, in one transaction with the cursor (written by the delivery
//! helper).
