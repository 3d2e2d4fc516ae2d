//! A stored image: its file's facts (type, size, content hash) and its news
//! metadata (credit, source, copyright, caption, alt text, date, focal point).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the uploaded bytes, lower-case hex: identical files are stored once.
    #[sea_orm(unique)]
    pub content_hash: String,
    /// `image/jpeg`, `image/png`, `image/webp` or `image/gif`, as the bytes said.
    pub media_type: String,
    /// As displayed (after the EXIF orientation).
    pub width: i32,
    pub height: i32,
    /// Of the upload.
    pub byte_size: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub alt_text: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub caption: Option<String>,
    /// The photographer.
    #[sea_orm(column_type = "Text", nullable)]
    pub credit: Option<String>,
    /// The agency or provider.
    #[sea_orm(column_type = "Text", nullable)]
    pub source: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub copyright: Option<String>,
    pub taken_at: Option<DateTimeUtc>,
    /// Where the interesting part is, 0..=1 from the left and from the top.
    pub focal_x: f64,
    pub focal_y: f64,
    /// The user who uploaded it (`None` once that account is deleted).
    pub uploaded_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
