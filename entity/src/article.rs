//! An article. `status` holds one of `draft`, `scheduled`, `published`, `archived`.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    /// `title` folded to lower-case ASCII: the sort key, the same on every backend.
    pub title_key: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    #[sea_orm(column_type = "Text")]
    pub body_markdown: String,
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub dateline: Option<String>,
    pub canonical_url: Option<String>,
    pub publisher_id: Uuid,
    pub syndicated_from_id: Option<Uuid>,
    pub reading_time_minutes: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the article is in the trash: invisible everywhere until restored or purged.
    pub deleted_at: Option<DateTimeUtc>,
    /// Approved reader comments, kept up to date by every moderation.
    pub comment_count: i32,
    /// The `published_at` for which the `article.published` event was recorded: a
    /// scheduled article whose time has come is announced once, by the worker.
    pub announced_at: Option<DateTimeUtc>,
    /// The photo shown with the story, and its caption and alt text for this story
    /// (`None`: the asset's own).
    pub featured_media_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub featured_caption: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub featured_alt: Option<String>,
    /// The title and description for search engines and for social cards (`None`:
    /// the headline and the excerpt).
    #[sea_orm(column_type = "Text", nullable)]
    pub seo_title: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub seo_description: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub og_title: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub og_description: Option<String>,
    /// A BCP 47 tag in canonical case; `None`: the site's default language.
    pub language: Option<String>,
    /// Kept out of the sitemaps and marked `noindex` for search engines.
    pub noindex: bool,
}

impl ActiveModelBehavior for ActiveModel {}
