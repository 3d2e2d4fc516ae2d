//! Black-box tests: each starts the real application on a random port with its own
//! fresh database (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` names a
//! server) and drives it over HTTP as a frontend or an editor would.

mod helpers;

mod api_keys;
mod articles;
mod auth;
mod authors;
mod bad_input;
mod bodies;
mod cache;
mod cli;
mod comments;
mod conformance;
mod cors;
mod crash;
mod delivery;
mod demo;
mod edge;
mod events;
mod examples;
mod feeds;
mod fields;
mod hostile;
mod limits;
mod listing;
mod matrix;
mod media;
mod media_files;
mod media_library;
mod media_races;
mod media_refusals;
mod media_roles;
mod media_stories;
mod media_uploads;
mod metrics;
mod nodes;
mod operations;
mod outages;
mod platform;
mod previews;
mod publishers;
mod races;
mod readme;
mod receiver;
mod schema_rules;
mod seo;
mod sessions;
mod sitemaps;
mod tags;
mod tokens;
mod users;
mod webhooks;
mod wire;
mod workflow;
