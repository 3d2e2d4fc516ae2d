//! Authentication (bearer JWTs) and the rules of who may do what.

pub mod policy;
pub mod token;

pub use policy::Role;
pub use token::{BearerAuth, Claims, MaybeAuth, TokenKeys, Viewer};
