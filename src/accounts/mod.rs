//! Accounts: users and their sign-in sessions.

pub mod sessions;
pub mod users;
