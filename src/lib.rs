//! Dispatch: a headless CMS for newsrooms.
//!
//! `main.rs` only calls [`cli::run`]; everything else is here so that the
//! integration tests can start the real application in-process.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod connections;
pub mod content;
pub mod cors;
pub mod demo;
pub mod digest;
pub mod docs;
pub mod edge;
pub mod error;
pub mod etag;
pub mod head;
#[cfg(test)]
mod layers;
pub mod media;
pub mod memory;
pub mod methods;
pub mod metrics;
pub mod nullable;
pub mod request_id;
pub mod seed;
pub mod site;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
pub mod wire;
