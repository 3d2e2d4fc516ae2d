//! Authentication (bearer JWTs, API keys, passwords, login rate limits, draft-preview
//! tokens) and the rules of who may do what.

pub mod api_key;
pub mod limit;
pub mod password;
pub mod policy;
pub mod preview;
pub mod stored_limit;
pub mod token;

pub use policy::Role;
pub use token::{Claims, Principal, TokenKeys, Viewer};
