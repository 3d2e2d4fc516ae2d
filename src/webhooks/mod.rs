//! Webhooks: the endpoints admins register ([`endpoints`], with the address rules
//! that keep them off the internal network in [`address`]), their deliveries and
//! attempts as admins see and retry them ([`deliveries`]), how a delivery is signed
//! ([`signing`], Standard Webhooks) and the worker that fans events out into
//! deliveries ([`fanout`]), claims them under a lease and records each attempt
//! ([`lease`]), retries on a schedule ([`retry`]) and sends them over HTTP
//! ([`send`]), all driven by [`worker`]. The events themselves are
//! [`crate::content::events`].

pub mod address;
pub mod deliveries;
pub mod endpoints;
pub mod fanout;
pub mod lease;
pub mod retry;
pub mod send;
pub mod signing;
pub mod worker;
