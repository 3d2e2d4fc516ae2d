//! The request-body and path examples Swagger UI fills in for "Try it out": each
//! names the demo newsroom (`dispatch seed --demo`) by its fixed ids and slugs
//! ([`crate::demo`]), so that Execute on the defaults succeeds against a demo-seeded
//! server signed in as the README's first admin. Creates send no slug, so a second
//! Execute makes a new one (`-2`) instead of a 409; updates change nothing that a
//! second run would trip over. Objects carry `#[oai(example)]` where they are
//! declared; the values are all here.
//!
//! Uploads take a file, which Swagger UI asks for with a file picker: no example.
//! What cannot have a working default: `users/{id}`, `comments/{id}` and
//! `webhooks/{id}` (no demo user, comment or webhook has a fixed id: use one from a
//! create's answer), the refresh and logout bodies (paste the `refresh_token` of a
//! login), a second Execute of the user create (the email is then taken: 409), and
//! the webhook's URL: its `.example` host never resolves (RFC 2606), so only a
//! server with `DISPATCH_WEBHOOK_ALLOW_PRIVATE=true`, which skips the address
//! checks, accepts it; anywhere else, put a receiver of your own there.

use poem_openapi::types::{Example, MaybeUndefined};

use crate::accounts::api_keys::ApiKeyCreate;
use crate::accounts::users::{UserCreate, UserUpdate};
use crate::api::auth::{LoginRequest, RefreshRequest};
use crate::api::previews::PreviewLinkCreate;
use crate::auth::Role;
use crate::auth::policy::Grant;
use crate::content::articles::{ArticleCreate, ArticleUpdate, Status};
use crate::content::comments::{CommentCreate, CommentStatus, CommentUpdate};
use crate::content::media::{FocalPoint, MediaUpdate};
use crate::content::taxonomy::{
    AuthorCreate, AuthorUpdate, PublisherCreate, PublisherUpdate, TagCreate, TagUpdate,
};
use crate::demo;
use crate::webhooks::endpoints::{SecretRotation, WebhookCreate, WebhookUpdate};

/// The first admin the README creates (`DISPATCH_ADMIN_EMAIL`, `DISPATCH_ADMIN_PASSWORD`).
pub const README_ADMIN_EMAIL: &str = "you@example.com";
/// The README's example password for that admin: an example, never a default.
pub const README_ADMIN_PASSWORD: &str = "a long passphrase";

/// A demo publisher, for `{id_or_slug}` of the publisher operations.
pub fn publisher_slug() -> String {
    "harbor-city-ledger".into()
}

/// A demo author, for `{id_or_slug}` of the author operations.
pub fn author_slug() -> String {
    "maren-okafor".into()
}

/// A demo tag, for `{id_or_slug}` of the tag operations.
pub fn tag_slug() -> String {
    "transport".into()
}

/// A published demo article, for `{id_or_slug}` of the article and comment operations.
pub fn article_slug() -> String {
    "council-approves-sea-wall-study".into()
}

/// A demo photo, for `{id}` of the media operations.
pub fn media_id() -> uuid::Uuid {
    demo::SEA_WALL_PHOTO
}

/// A rendition every demo photo has, for `{file}` of `GET /media/{id}/{file}`.
pub fn media_file() -> String {
    "w1024.webp".into()
}

/// A child sitemap's file name.
pub fn sitemap_file() -> String {
    "articles-1.xml".into()
}

impl Example for MediaUpdate {
    fn example() -> Self {
        MediaUpdate {
            alt_text: MaybeUndefined::Value(
                "Waves breaking on the stone harbour wall under a low morning sun".into(),
            ),
            caption: MaybeUndefined::Undefined,
            credit: MaybeUndefined::Value("Maren Okafor".into()),
            source: MaybeUndefined::Value("The Harbor City Ledger".into()),
            copyright: MaybeUndefined::Undefined,
            taken_at: MaybeUndefined::Undefined,
            focal_point: Some(FocalPoint { x: 0.3, y: 0.45 }),
        }
    }
}

impl Example for ApiKeyCreate {
    fn example() -> Self {
        ApiKeyCreate {
            name: "Website (server-side rendering)".into(),
            scope: Grant::ReadPublished,
            user_id: None,
            expires_at: None,
            allowed_origins: None,
        }
    }
}

impl Example for LoginRequest {
    fn example() -> Self {
        LoginRequest {
            email: README_ADMIN_EMAIL.into(),
            password: README_ADMIN_PASSWORD.into(),
        }
    }
}

impl Example for RefreshRequest {
    fn example() -> Self {
        // The shape of a real one (43 characters of base64url); paste your own.
        RefreshRequest {
            refresh_token: "Qk3lT0yHn2b8Wc1xRzA5pVd7sJfEuLm9oGiY4tKq6Nw".into(),
        }
    }
}

impl Example for PublisherCreate {
    fn example() -> Self {
        PublisherCreate {
            image_media_id: None,
            name: "The Greyport Gazette".into(),
            slug: None,
            description: Some(
                "A weekly community paper for Greyport and the western beaches, \
                 run by its readers since 1952."
                    .into(),
            ),
            website_url: Some("https://greyportgazette.example".into()),
        }
    }
}

impl Example for PublisherUpdate {
    fn example() -> Self {
        PublisherUpdate {
            image_media_id: MaybeUndefined::Undefined,
            name: MaybeUndefined::Undefined,
            slug: MaybeUndefined::Undefined,
            description: MaybeUndefined::Value(
                "An independent daily covering politics, business and everyday life in \
                 Harbor City and its outlying islands, with a weekend magazine since 2024."
                    .into(),
            ),
            website_url: MaybeUndefined::Undefined,
        }
    }
}

impl Example for AuthorCreate {
    fn example() -> Self {
        AuthorCreate {
            image_media_id: None,
            name: "Noor Castellanos".into(),
            slug: None,
            bio: Some("Courts and public safety reporter at the Ledger.".into()),
            avatar_url: Some(
                "https://cdn.dispatch-demo.example/avatars/noor-castellanos.jpg".into(),
            ),
            publisher_id: Some(demo::HARBOR_CITY_LEDGER),
        }
    }
}

impl Example for AuthorUpdate {
    fn example() -> Self {
        AuthorUpdate {
            image_media_id: MaybeUndefined::Undefined,
            name: MaybeUndefined::Undefined,
            slug: MaybeUndefined::Undefined,
            bio: MaybeUndefined::Value(
                "City hall and climate reporter at the Ledger, covering the council, the \
                 waterfront and the sea wall study."
                    .into(),
            ),
            avatar_url: MaybeUndefined::Undefined,
            publisher_id: MaybeUndefined::Undefined,
        }
    }
}

impl Example for TagCreate {
    fn example() -> Self {
        TagCreate {
            name: "Housing".into(),
            slug: None,
            description: Some(
                "Rents, planning decisions and the people looking for a place to live.".into(),
            ),
        }
    }
}

impl Example for TagUpdate {
    fn example() -> Self {
        TagUpdate {
            name: MaybeUndefined::Undefined,
            slug: MaybeUndefined::Undefined,
            description: MaybeUndefined::Value(
                "Buses, trams, ferries and the roads between the valley towns.".into(),
            ),
        }
    }
}

impl Example for UserCreate {
    fn example() -> Self {
        UserCreate {
            email: "maren.okafor@harborcityledger.example".into(),
            password: "quayside lanterns at low tide".into(),
            role: Role::Author,
            author_id: Some(demo::MAREN_OKAFOR),
            disabled: false,
        }
    }
}

impl Example for UserUpdate {
    fn example() -> Self {
        UserUpdate {
            email: MaybeUndefined::Undefined,
            password: MaybeUndefined::Undefined,
            role: MaybeUndefined::Value(Role::Editor),
            author_id: MaybeUndefined::Undefined,
            disabled: MaybeUndefined::Undefined,
        }
    }
}

impl Example for CommentCreate {
    fn example() -> Self {
        CommentCreate {
            author_name: "Ruth from Quayside".into(),
            email: "ruth.q@example.com".into(),
            body: "We had water in the basement again last month. Glad the study is \
                   finally happening.\n\nPlease publish the workshop dates when they are set."
                .into(),
        }
    }
}

impl Example for CommentUpdate {
    fn example() -> Self {
        CommentUpdate {
            status: CommentStatus::Approved,
        }
    }
}

impl Example for ArticleCreate {
    fn example() -> Self {
        ArticleCreate {
            featured_media_id: Some(demo::FERRY_PHOTO),
            featured_caption: None,
            featured_alt: None,
            seo_title: Some("Harbor City ferry fares frozen until 2027".into()),
            seo_description: None,
            og_title: None,
            og_description: None,
            language: Some("en".into()),
            noindex: None,
            title: "Ferry fares frozen for 2027".into(),
            slug: None,
            subtitle: Some("The harbour board keeps every island fare at this year's price".into()),
            excerpt: None,
            body_markdown: "The harbour board **voted** on Tuesday to keep every ferry fare \
                            at this year's price until the end of 2027.\n\n\
                            Season tickets for island residents stay at half price."
                .into(),
            status: Some(Status::Draft),
            published_at: None,
            dateline: Some("HARBOR CITY".into()),
            canonical_url: None,
            publisher_id: demo::HARBOR_CITY_LEDGER,
            syndicated_from_id: None,
            author_ids: vec![demo::TOMAS_REYES_LINDQVIST],
            tag_ids: vec![demo::TRANSPORT, demo::BUSINESS],
        }
    }
}

impl Example for ArticleUpdate {
    fn example() -> Self {
        ArticleUpdate {
            featured_media_id: MaybeUndefined::Undefined,
            featured_caption: MaybeUndefined::Undefined,
            featured_alt: MaybeUndefined::Undefined,
            seo_title: MaybeUndefined::Undefined,
            seo_description: MaybeUndefined::Undefined,
            og_title: MaybeUndefined::Undefined,
            og_description: MaybeUndefined::Undefined,
            language: MaybeUndefined::Undefined,
            noindex: None,
            title: MaybeUndefined::Undefined,
            slug: MaybeUndefined::Undefined,
            subtitle: MaybeUndefined::Value(
                "A two-year engineering review will weigh a concrete wall, earth berms \
                 and restored salt marsh"
                    .into(),
            ),
            excerpt: MaybeUndefined::Undefined,
            body_markdown: MaybeUndefined::Undefined,
            status: MaybeUndefined::Undefined,
            published_at: MaybeUndefined::Undefined,
            dateline: MaybeUndefined::Undefined,
            canonical_url: MaybeUndefined::Undefined,
            publisher_id: MaybeUndefined::Undefined,
            syndicated_from_id: MaybeUndefined::Undefined,
            author_ids: MaybeUndefined::Value(vec![demo::MAREN_OKAFOR]),
            tag_ids: MaybeUndefined::Value(vec![demo::LOCAL_POLITICS, demo::CLIMATE]),
        }
    }
}

impl Example for WebhookCreate {
    fn example() -> Self {
        WebhookCreate {
            url: "https://hooks.greyportgazette.example/dispatch".into(),
            description: Some("Rebuilds the Gazette's static site when a story changes.".into()),
            event_types: vec!["article.*".into(), "tag.*".into()],
            enabled: true,
        }
    }
}

impl Example for WebhookUpdate {
    fn example() -> Self {
        WebhookUpdate {
            url: MaybeUndefined::Undefined,
            description: MaybeUndefined::Undefined,
            event_types: MaybeUndefined::Value(vec![
                "article.published".into(),
                "article.updated".into(),
                "article.unpublished".into(),
            ]),
            enabled: MaybeUndefined::Value(true),
        }
    }
}

impl Example for SecretRotation {
    fn example() -> Self {
        SecretRotation {
            overlap_seconds: 3600,
        }
    }
}

impl Example for PreviewLinkCreate {
    fn example() -> Self {
        PreviewLinkCreate {
            expires_in: Some(3600),
        }
    }
}
