//! Relation loading with a fixed number of statements: bylines, tags, publishers
//! and the rows `include` embeds (each only when a read needs it, see [`Need`]),
//! and the ready-made byline string.

use std::collections::{HashMap, HashSet};

use entity::{article, article_author, article_tag, author, publisher, tag};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{Record, Related, not_found};
use crate::error::ApiError;

/// Which related objects to embed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Include {
    pub authors: bool,
    pub publisher: bool,
    pub syndicated_from: bool,
    pub tags: bool,
    pub featured_media: bool,
}

impl Include {
    /// The relations `include` may name, as [`Self::parse`] knows them.
    pub const RELATIONS: [&'static str; 5] = [
        "authors",
        "publisher",
        "syndicated_from",
        "tags",
        "featured_media",
    ];
    pub const NAMES: &'static str = "authors, publisher, syndicated_from, tags, featured_media";

    /// [`Self::parse`]'s rule as a regular expression (for the OpenAPI document):
    /// [`Self::RELATIONS`] separated by commas, blanks and empty parts allowed.
    pub fn pattern() -> String {
        format!(
            r"^[\s,]*(?:(?:{})\s*(?:,[\s,]*|$))*$",
            Self::RELATIONS.join("|")
        )
    }

    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        let mut include = Self::default();
        for part in text
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part {
                "authors" => include.authors = true,
                "publisher" => include.publisher = true,
                "syndicated_from" => include.syndicated_from = true,
                "tags" => include.tags = true,
                "featured_media" => include.featured_media = true,
                other => {
                    return Err(ApiError::bad_request(
                        "include",
                        format!("unknown relation `{other}`; use any of {}", Self::NAMES),
                    ));
                }
            }
        }
        Ok(include)
    }
}

/// What a read must fetch besides the article's other columns: the bodies, and
/// which relation rows. Everything ([`Need::ALL`]) unless the reader chose fields;
/// what `include` embeds is fetched whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// `body_markdown` and `body_html` (left empty otherwise).
    pub bodies: bool,
    /// The byline rows with their authors (`author_ids`, the `byline` string).
    pub bylines: bool,
    /// The tag rows (`tag_ids`).
    pub tags: bool,
    /// The publishers (the `byline` string names them).
    pub publishers: bool,
}

impl Need {
    pub const ALL: Self = Self {
        bodies: true,
        bylines: true,
        tags: true,
        publishers: true,
    };

    /// This, with what `include` embeds.
    fn with(self, include: Include) -> Self {
        Self {
            bodies: self.bodies,
            bylines: self.bylines || include.authors,
            tags: self.tags || include.tags,
            publishers: self.publishers || include.publisher || include.syndicated_from,
        }
    }
}

/// The ready-made byline: the authors ("A", "A and B", "A, B and C"), then the
/// publisher, or for a syndicated story "Original Outlet / Carrier".
pub fn byline(record: &Record, related: &Related) -> String {
    let names: Vec<&str> = record
        .author_ids
        .iter()
        .filter_map(|id| related.authors.get(id).map(|a| a.name.as_str()))
        .collect();
    let people = match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let name_of = |id: &Uuid| related.publishers.get(id).map(|p| p.name.as_str());
    let carrier = name_of(&record.model.publisher_id).unwrap_or_default();
    let outlets = match record.model.syndicated_from_id.as_ref().and_then(name_of) {
        Some(original) => format!("{original} / {carrier}"),
        None => carrier.to_string(),
    };
    match (people.is_empty(), outlets.is_empty()) {
        (true, _) => outlets,
        (false, true) => people,
        (false, false) => format!("{people}, {outlets}"),
    }
}

/// Bylines with their authors and the tag rows for `models` (two statements), the
/// publishers (one: the ready-made `byline` string names them), and the tags and
/// the featured photos when `include` asks (one more each): at most five statements,
/// whatever the number of articles; a statement whose rows nothing `need`s (nor
/// `include`) is not run.
pub(super) async fn load_relations(
    db: &impl ConnectionTrait,
    models: Vec<article::Model>,
    include: Include,
    need: Need,
) -> Result<(Vec<Record>, Related), ApiError> {
    let mut related = Related::default();
    if models.is_empty() {
        return Ok((Vec::new(), related));
    }
    let need = need.with(include);
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    // The byline rows with their authors, in one statement (the byline string needs
    // the names).
    let byline_rows = if !need.bylines {
        Vec::new()
    } else {
        article_author::Entity::find()
            .join(
                JoinType::InnerJoin,
                article_author::Entity::belongs_to(author::Entity)
                    .from(article_author::Column::AuthorId)
                    .to(author::Column::Id)
                    .into(),
            )
            .select_also(author::Entity)
            .filter(article_author::Column::ArticleId.is_in(ids.clone()))
            .order_by_asc(article_author::Column::Position)
            .all(db)
            .await?
    };
    let tagging = if !need.tags {
        Vec::new()
    } else {
        article_tag::Entity::find()
            .filter(article_tag::Column::ArticleId.is_in(ids.clone()))
            .order_by_asc(article_tag::Column::Position)
            .all(db)
            .await?
    };
    let mut bylines = Vec::with_capacity(byline_rows.len());
    for (row, author) in byline_rows {
        if let Some(a) = author {
            related.authors.insert(a.id, a);
        }
        bylines.push(row);
    }
    let mut authors_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &bylines {
        authors_of
            .entry(row.article_id)
            .or_default()
            .push(row.author_id);
    }
    let mut tags_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &tagging {
        tags_of.entry(row.article_id).or_default().push(row.tag_id);
    }
    if include.tags {
        let wanted: HashSet<Uuid> = tagging.iter().map(|r| r.tag_id).collect();
        if !wanted.is_empty() {
            related.tags = tag::Entity::find()
                .filter(tag::Column::Id.is_in(wanted))
                .all(db)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
        }
    }
    if need.publishers {
        let wanted: HashSet<Uuid> = models
            .iter()
            .flat_map(|m| std::iter::once(m.publisher_id).chain(m.syndicated_from_id))
            .collect();
        related.publishers = publisher::Entity::find()
            .filter(publisher::Column::Id.is_in(wanted))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    }
    if include.featured_media {
        let wanted: Vec<Uuid> = models
            .iter()
            .filter_map(|m| m.featured_media_id)
            .collect::<HashSet<Uuid>>()
            .into_iter()
            .collect();
        related.media = crate::content::media::many(db, &wanted)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
    }
    let records = models
        .into_iter()
        .map(|model| Record {
            author_ids: authors_of.remove(&model.id).unwrap_or_default(),
            tag_ids: tags_of.remove(&model.id).unwrap_or_default(),
            model,
        })
        .collect();
    Ok((records, related))
}

/// Bylines and tags only (two statements).
pub async fn load_ids(
    db: &impl ConnectionTrait,
    models: Vec<article::Model>,
) -> Result<Vec<Record>, ApiError> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let bylines = article_author::Entity::find()
        .filter(article_author::Column::ArticleId.is_in(ids.clone()))
        .order_by_asc(article_author::Column::Position)
        .all(db)
        .await?;
    let tagging = article_tag::Entity::find()
        .filter(article_tag::Column::ArticleId.is_in(ids))
        .order_by_asc(article_tag::Column::Position)
        .all(db)
        .await?;
    let records = models
        .into_iter()
        .map(|model| Record {
            author_ids: bylines
                .iter()
                .filter(|r| r.article_id == model.id)
                .map(|r| r.author_id)
                .collect(),
            tag_ids: tagging
                .iter()
                .filter(|r| r.article_id == model.id)
                .map(|r| r.tag_id)
                .collect(),
            model,
        })
        .collect();
    Ok(records)
}

/// The authors and publishers the bylines of `records` name (two statements at
/// most, whatever the number of records): what an article's view needs beyond
/// its own row, byline and tags.
pub(super) async fn names_of(
    db: &impl ConnectionTrait,
    records: &[&Record],
) -> Result<Related, ApiError> {
    let author_ids: HashSet<Uuid> = records
        .iter()
        .flat_map(|r| r.author_ids.iter().copied())
        .collect();
    let publisher_ids: HashSet<Uuid> = records
        .iter()
        .flat_map(|r| std::iter::once(r.model.publisher_id).chain(r.model.syndicated_from_id))
        .collect();
    let mut related = Related::default();
    if !author_ids.is_empty() {
        related.authors = author::Entity::find()
            .filter(author::Column::Id.is_in(author_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    }
    if !publisher_ids.is_empty() {
        related.publishers = publisher::Entity::find()
            .filter(publisher::Column::Id.is_in(publisher_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    }
    Ok(related)
}

/// `record` with the related rows its view needs (the byline's names).
pub async fn with_relations(
    db: &impl ConnectionTrait,
    record: Record,
) -> Result<(Record, Related), ApiError> {
    let (mut records, related) =
        load_relations(db, vec![record.model], Include::default(), Need::ALL).await?;
    let mut loaded = records.pop().ok_or_else(not_found)?;
    // The byline and tags just written are the truth; the reload only adds names.
    loaded.author_ids = record.author_ids;
    loaded.tag_ids = record.tag_ids;
    Ok((loaded, related))
}

#[cfg(test)]
mod include_tests {
    use super::Include;

    #[test]
    fn relations_are_the_names_parse_knows() {
        assert_eq!(Include::NAMES, Include::RELATIONS.join(", "));
        for name in Include::RELATIONS {
            assert_ne!(
                Include::parse(Some(name)).ok(),
                Some(Include::default()),
                "{name}"
            );
        }
    }
}
