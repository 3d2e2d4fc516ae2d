//! The shared state every request handler can reach: the database (and the read
//! replica anonymous reads go to), the token keys, the clock, the password hasher,
//! the rate limiters and the settings. It sits below
//! the API (which hands it to handlers) and above `auth`, whose functions take only
//! the parts they need.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::limit::Limiter;
use crate::auth::password::Passwords;
use crate::auth::preview::PreviewKeys;
use crate::auth::stored_limit::StoredLimiter;
use crate::auth::{TokenKeys, Viewer};
use crate::clock::SharedClock;
use crate::config::{AuthConfig, EventsConfig, WorkflowConfig};
use crate::media::Library;
use crate::site::Site;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The primary: every write, and every read of a signed-in user.
    pub db: DatabaseConnection,
    /// The read replica (`DATABASE_READ_URL`), if one is configured.
    pub replica: Option<DatabaseConnection>,
    pub keys: Arc<TokenKeys>,
    pub clock: SharedClock,
    pub passwords: Passwords,
    /// This process's own limits (comments).
    pub limiter: Arc<Limiter>,
    /// The sign-in limits, shared by every node through the database.
    pub logins: Arc<StoredLimiter>,
    pub auth: Arc<AuthConfig>,
    pub workflow: Arc<WorkflowConfig>,
    pub events: Arc<EventsConfig>,
    /// The media library: its storage, settings and image workers.
    pub media: Arc<Library>,
    /// The public site's addresses and default language.
    pub site: Arc<Site>,
    /// The key draft-preview tokens are signed with.
    pub previews: Arc<PreviewKeys>,
}

impl AppState {
    /// Where public reads that are the same for every reader go: the replica if one
    /// is configured, else the primary.
    pub fn reader(&self) -> &DatabaseConnection {
        self.replica.as_ref().unwrap_or(&self.db)
    }

    /// Where a read for `viewer` goes: an anonymous reader's, and a read-only API key's
    /// (which writes nothing it would need to read back), to [`AppState::reader`]; a
    /// signed-in user's to the primary, so they read what they just wrote.
    pub fn db_for(&self, viewer: &Viewer) -> &DatabaseConnection {
        match viewer {
            Viewer::User(p) if p.user_id().is_some() => &self.db,
            Viewer::Anonymous | Viewer::User(_) => self.reader(),
        }
    }
}
