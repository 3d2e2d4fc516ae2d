//! Webhooks: the endpoints admins register ([`endpoints`], with the address rules
//! that keep them off the internal network in [`address`]), their deliveries and
//! attempts as admins see and retry them ([`deliveries`]), how a delivery is signed
//! ([`signing`], Standard Webhooks) and the worker that fans events out into
//! deliveries and sends them ([`worker`]). The events themselves are
//! [`crate::content::events`].

pub mod address;
pub mod deliveries;
pub mod endpoints;
pub mod signing;
pub mod worker;
