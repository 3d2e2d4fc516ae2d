//! Slugs: lower-case ASCII words joined by hyphens, unique per resource.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::Condition,
};
use uuid::Uuid;

use crate::error::ApiError;

pub const MAX_LEN: usize = 80;
/// Room left for a `-NNN` collision suffix on generated slugs.
const BASE_LEN: usize = MAX_LEN - 8;

/// Makes a slug from a name or title: transliterated to ASCII, lower-case,
/// runs of anything else folded into one hyphen. Empty when nothing is left.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for ch in ascii.chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    if slug.len() > BASE_LEN {
        slug.truncate(BASE_LEN);
        slug = slug.trim_end_matches('-').to_string();
    }
    slug
}

/// Checks a slug given by a client. Returns the reason it is refused.
pub fn check(slug: &str) -> Result<(), &'static str> {
    if slug.is_empty() {
        return Err("must not be empty");
    }
    if slug.len() > MAX_LEN {
        return Err("must be at most 80 characters");
    }
    let well_formed = slug.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !well_formed {
        return Err("must be lower-case letters and digits separated by single hyphens");
    }
    if Uuid::parse_str(slug).is_ok() {
        return Err("must not look like an id");
    }
    Ok(())
}

/// A path segment naming a resource by id or by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Id(Uuid),
    Slug(String),
}

impl Key {
    pub fn parse(text: &str) -> Self {
        match Uuid::parse_str(text) {
            Ok(id) => Self::Id(id),
            Err(_) => Self::Slug(text.to_string()),
        }
    }

    /// The condition selecting this key, given the entity's id and slug columns.
    pub fn condition<C: ColumnTrait>(&self, id: C, slug: C) -> Condition {
        match self {
            Self::Id(v) => Condition::all().add(id.eq(*v)),
            Self::Slug(v) => Condition::all().add(slug.eq(v.as_str())),
        }
    }
}

/// The first free slug among `base`, `base-2`, `base-3`, … for the slug column
/// `column` of entity `E`, ignoring the row `except` (the one being renamed).
pub async fn free<E, C>(
    db: &C,
    column: E::Column,
    id_column: E::Column,
    base: &str,
    except: Option<Uuid>,
) -> Result<String, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut query = E::find().select_only().column(column).filter(
        Condition::any()
            .add(column.eq(base))
            .add(column.like(format!("{base}-%"))),
    );
    if let Some(id) = except {
        query = query.filter(id_column.ne(id));
    }
    let taken: Vec<String> = query.into_tuple().all(db).await?;
    Ok(first_free(base, &taken))
}

fn first_free(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    let used: std::collections::HashSet<u64> = taken
        .iter()
        .filter_map(|t| t.strip_prefix(base)?.strip_prefix('-')?.parse().ok())
        .collect();
    let n = (2..).find(|n| !used.contains(n)).unwrap_or(2);
    format!("{base}-{n}")
}

/// The slug for a new or renamed row: the client's own (refused with 409 if taken
/// by another row), or one made from `name` with a free collision suffix.
pub async fn choose<E>(
    db: &impl ConnectionTrait,
    (id_col, slug_col): (E::Column, E::Column),
    given: Option<&str>,
    name: &str,
    except: Option<Uuid>,
) -> Result<String, ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    if let Some(given) = given {
        let mut taken = E::find().filter(slug_col.eq(given));
        if let Some(id) = except {
            taken = taken.filter(id_col.ne(id));
        }
        if taken.count(db).await? > 0 {
            return Err(ApiError::conflict("slug", "is already taken"));
        }
        return Ok(given.to_string());
    }
    let mut base = slugify(name);
    if base.is_empty() || Uuid::parse_str(&base).is_ok() {
        base = "untitled".to_string();
    }
    Ok(free::<E, _>(db, slug_col, id_col, &base, except).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_transliterates_and_folds() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Café Müller — Łódź  "), "cafe-muller-lodz");
        assert_eq!(slugify("***"), "");
        assert_eq!(slugify("a--b__c"), "a-b-c");
    }

    #[test]
    fn long_titles_leave_room_for_a_suffix() {
        let s = slugify(&"word ".repeat(100));
        assert!(s.len() <= 72, "{}", s.len());
        assert!(!s.ends_with('-'));
    }

    #[test]
    fn client_slugs_are_checked() {
        assert!(check("city-council-votes-2026").is_ok());
        for bad in [
            "",
            "Upper",
            "double--hyphen",
            "-lead",
            "trail-",
            "space here",
            "ünï",
            "0190b1a2-0000-7000-8000-000000000000",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check(&"a".repeat(81)).is_err());
    }

    #[test]
    fn collisions_get_the_first_free_suffix() {
        assert_eq!(first_free("a", &[]), "a");
        assert_eq!(first_free("a", &["a".into()]), "a-2");
        assert_eq!(
            first_free("a", &["a".into(), "a-2".into(), "a-4".into()]),
            "a-3"
        );
        assert_eq!(first_free("a", &["a-2".into()]), "a");
    }
}
