//! Slugs: lower-case ASCII words joined by hyphens, unique per resource.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::Condition,
};
use uuid::Uuid;

use crate::error::ApiError;

pub const MAX_LEN: usize = 80;
/// [`check`]'s rule as a regular expression (ECMA-262, for the OpenAPI document):
/// lower-case letters and digits in hyphen-separated words, and not an id (a UUID,
/// hyphenated or simple). The length limit is [`MAX_LEN`], said apart.
pub const PATTERN: &str = "^(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)(?![0-9a-f]{32}$)[a-z0-9]+(?:-[a-z0-9]+)*$";
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

/// The slugs of entity `E` among `base`, `base-2`, `base-3`, …, ignoring the row
/// `except` (the one being renamed).
async fn taken<E, C>(
    db: &C,
    (id_column, column): (E::Column, E::Column),
    base: &str,
    except: Option<Uuid>,
) -> Result<Vec<String>, DbErr>
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
    query.into_tuple().all(db).await
}

/// The `skip`-th free slug (0: the first) among `base`, `base-2`, `base-3`, …
fn nth_free(base: &str, taken: &[String], skip: u64) -> String {
    let base_taken = taken.iter().any(|t| t == base);
    if !base_taken && skip == 0 {
        return base.to_string();
    }
    let used: std::collections::HashSet<u64> = taken
        .iter()
        .filter_map(|t| t.strip_prefix(base)?.strip_prefix('-')?.parse().ok())
        .collect();
    let skip = skip.saturating_sub(u64::from(!base_taken));
    let n = (2..)
        .filter(|n| !used.contains(n))
        .nth(skip as usize)
        .unwrap_or(2);
    format!("{base}-{n}")
}

/// How a slug is made when the client sends none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// From the name, with the first free suffix (`-2`, `-3`, …) when it is taken.
    /// Only for writers who can read every row it could collide with.
    FirstFree,
    /// From the name with a random suffix, whatever else exists: a writer who cannot
    /// read every article learns nothing about the others from the slug they get.
    Random,
}

/// How many times an insert with a made slug picks another after a concurrent
/// insert took its pick.
pub const ATTEMPTS: u32 = 12;

/// One insert with a slug, as [`insert_with`] runs it.
pub type Attempt<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, InsertError>> + Send + 'a>>;

/// Why an insert with a slug failed.
pub enum InsertError {
    /// The slug was taken meanwhile (a unique violation).
    Taken,
    /// Anything else, as the client will see it.
    Other(ApiError),
}

impl From<ApiError> for InsertError {
    fn from(err: ApiError) -> Self {
        Self::Other(err)
    }
}

impl From<DbErr> for InsertError {
    fn from(err: DbErr) -> Self {
        Self::Other(err.into())
    }
}

/// Whether a write failed on a unique index (for the slug tables: the slug).
pub fn is_taken(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A random number below `bound`.
fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    // Without system randomness the suffix is simply the first free one.
    if getrandom::fill(&mut bytes).is_err() {
        return 0;
    }
    u64::from_le_bytes(bytes) % bound.max(1)
}

/// A random suffix of six lower-case letters and digits.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|_| char::from(ALPHABET[random_below(ALPHABET.len() as u64) as usize]))
        .collect()
}

/// The slug to try on `attempt` (0 first): the client's own, or one made from `name`.
async fn pick<E>(
    db: &impl ConnectionTrait,
    keys: (E::Column, E::Column),
    name: &str,
    made: Made,
    attempt: u32,
) -> Result<String, DbErr>
where
    E: EntityTrait,
{
    let mut base = slugify(name);
    if base.is_empty() || Uuid::parse_str(&base).is_ok() {
        base = "untitled".to_string();
    }
    if made == Made::Random {
        return Ok(format!("{base}-{}", random_suffix()));
    }
    let taken = taken::<E, _>(db, keys, &base, None).await?;
    // The first try takes the first free suffix; after losing races, the pick
    // spreads over more and more free suffixes so that many concurrent creates of
    // one name settle in a few rounds instead of one winner per round.
    let spread = if attempt == 0 {
        1
    } else {
        1u64 << attempt.min(8)
    };
    Ok(nth_free(&base, &taken, random_below(spread)))
}

/// Inserts a row with a slug: the client's `given` one (a 409 on `slug` if it is
/// taken), or one made from `name`, retried with another free one (up to
/// [`ATTEMPTS`] times) when a concurrent insert takes it first. `insert` does the
/// write with the slug (on PostgreSQL a failed statement aborts its transaction, so
/// `insert` runs whole transactions, each attempt its own).
pub async fn insert_with<'a, E, T>(
    db: &impl ConnectionTrait,
    keys: (E::Column, E::Column),
    given: Option<&str>,
    name: &str,
    made: Made,
    mut insert: impl FnMut(String) -> Attempt<'a, T>,
) -> Result<T, ApiError>
where
    E: EntityTrait,
{
    let taken_error = || ApiError::conflict("slug", "is already taken");
    if let Some(given) = given {
        return match insert(given.to_string()).await {
            Ok(done) => Ok(done),
            Err(InsertError::Taken) => Err(taken_error()),
            Err(InsertError::Other(err)) => Err(err),
        };
    }
    for attempt in 0..ATTEMPTS {
        let slug = pick::<E>(db, keys, name, made, attempt).await?;
        match insert(slug).await {
            Ok(done) => return Ok(done),
            Err(InsertError::Taken) => continue,
            Err(InsertError::Other(err)) => return Err(err),
        }
    }
    tracing::warn!(
        attempts = ATTEMPTS,
        "no free slug found; too many concurrent creates of one name"
    );
    Err(ApiError::conflict(
        "slug",
        "no free slug could be made from the name right now; send again, or send a slug",
    ))
}

/// Checks a slug a client sent for a row being renamed: a 409 if another row has it.
pub async fn check_free<E>(
    db: &impl ConnectionTrait,
    (id_col, slug_col): (E::Column, E::Column),
    given: &str,
    except: Uuid,
) -> Result<(), ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let others = E::find()
        .filter(slug_col.eq(given))
        .filter(id_col.ne(except))
        .count(db)
        .await?;
    if others > 0 {
        return Err(ApiError::conflict("slug", "is already taken"));
    }
    Ok(())
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

    fn first_free(base: &str, taken: &[String]) -> String {
        nth_free(base, taken, 0)
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
        assert_eq!(nth_free("a", &[], 1), "a-2");
        assert_eq!(nth_free("a", &["a".into(), "a-3".into()], 1), "a-4");
        assert_eq!(nth_free("a", &["a-2".into()], 1), "a-3");
    }
}
