//! Accounts: users, their sign-in sessions, and the API keys of frontends and services.

pub mod api_keys;
pub mod sessions;
pub mod users;
