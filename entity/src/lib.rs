//! SeaORM entities for Dispatch, one module per table.
//!
//! These are plain data; behaviour (slugs, rendering, queries) lives in the
//! `dispatch` crate's `content` module.

pub mod api_key;
pub mod article;
pub mod article_author;
pub mod article_media;
pub mod article_revision;
pub mod article_slug;
pub mod article_tag;
pub mod author;
pub mod comment;
pub mod event;
pub mod event_sequence;
pub mod login_limit;
pub mod media;
pub mod preview_link;
pub mod publisher;
pub mod refresh_token;
pub mod tag;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;

pub mod prelude {
    pub use super::api_key::Entity as ApiKey;
    pub use super::article::Entity as Article;
    pub use super::article_author::Entity as ArticleAuthor;
    pub use super::article_media::Entity as ArticleMedia;
    pub use super::article_revision::Entity as ArticleRevision;
    pub use super::article_slug::Entity as ArticleSlug;
    pub use super::article_tag::Entity as ArticleTag;
    pub use super::author::Entity as Author;
    pub use super::comment::Entity as Comment;
    pub use super::event::Entity as Event;
    pub use super::event_sequence::Entity as EventSequence;
    pub use super::login_limit::Entity as LoginLimit;
    pub use super::media::Entity as Media;
    pub use super::preview_link::Entity as PreviewLink;
    pub use super::publisher::Entity as Publisher;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::tag::Entity as Tag;
    pub use super::user::Entity as User;
    pub use super::webhook::Entity as Webhook;
    pub use super::webhook_attempt::Entity as WebhookAttempt;
    pub use super::webhook_delivery::Entity as WebhookDelivery;
}
