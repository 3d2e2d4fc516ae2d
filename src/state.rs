//! The shared state every request handler can reach: the database, the token keys,
//! the clock, the password hasher, the rate limiter and the settings. It sits below
//! the API (which hands it to handlers) and above `auth`, whose functions take only
//! the parts they need.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::TokenKeys;
use crate::auth::limit::Limiter;
use crate::auth::password::Passwords;
use crate::clock::SharedClock;
use crate::config::{AuthConfig, WorkflowConfig};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: Arc<TokenKeys>,
    pub clock: SharedClock,
    pub passwords: Passwords,
    pub limiter: Arc<Limiter>,
    pub auth: Arc<AuthConfig>,
    pub workflow: Arc<WorkflowConfig>,
}
