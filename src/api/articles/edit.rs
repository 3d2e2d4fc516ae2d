//! What the article writes share: `If-Match` preconditions, who may edit which
//! article, how slugs are made, and saving a change with retries on a race.

use chrono::{DateTime, Utc};
use poem_openapi::types::Type;

use super::responses::ArticleSaved;
use super::views::view;
use crate::api::{AppState, visibility};
use crate::auth::policy::{self, Action, Scope, Target};
use crate::auth::{Principal, Viewer};
use crate::content::articles::{self, Actor, ArticleUpdate, Include, Record, Status};
use crate::content::slug::Made;
use crate::error::ApiError;

/// An `If-Match` precondition: `*`, or entity tags whose leading number is a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Parses the header; a value that is not a list of strong entity tags is a 400.
    /// Weak tags (`W/"…"`) never match, as RFC 9110 requires of `If-Match`.
    pub fn parse(header: Option<&str>) -> Result<Option<Self>, ApiError> {
        let Some(text) = header.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text == "*" {
            return Ok(Some(Self::Any));
        }
        let mut versions = Vec::new();
        for tag in text.split(',').map(str::trim) {
            if tag.starts_with("W/\"") && tag.ends_with('"') && tag.len() >= 4 {
                continue;
            }
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "If-Match",
                        "must be an entity tag such as \"3\" (the article's version, quoted)",
                    )
                })?;
            let number = inner.split('-').next().unwrap_or_default();
            if let Ok(v) = number.parse::<i32>() {
                versions.push(v);
            }
        }
        Ok(Some(Self::Versions(versions)))
    }

    pub fn matches(&self, version: i32) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(v) => v.contains(&version),
        }
    }
}

/// Checks `If-Match` against the article's current version.
pub(super) fn check_if_match(expected: Option<&IfMatch>, current: &Record) -> Result<(), ApiError> {
    match expected {
        Some(m) if !m.matches(current.model.version) => Err(ApiError::PreconditionFailed(format!(
            "`If-Match` does not name the article's current version ({}); reload it and apply your change again.",
            current.model.version
        ))),
        _ => Ok(()),
    }
}

/// Whether `principal` may apply `input` to `current`: edit it, change its status
/// if the change does, and still own it afterwards if limited to their own.
pub(super) fn authorize_edit(
    principal: &Principal,
    current: &Record,
    input: &ArticleUpdate,
) -> Result<(), ApiError> {
    let old_status = Status::from_db(&current.model.status);
    let before = Target::article(principal, &current.author_ids, old_status == Status::Draft);
    policy::decide(principal, Action::EditArticle, Some(before))?;
    if input
        .slug
        .value()
        .is_some_and(|slug| slug.as_str() != current.model.slug)
    {
        policy::decide(principal, Action::ChooseSlug, None)?;
    }
    let new_status = input.status.value().copied().unwrap_or(old_status);
    if new_status != old_status {
        policy::decide(principal, Action::PublishArticle, Some(before))?;
    }
    if let Some(new_byline) = input.author_ids.value() {
        // Nobody limited to their own articles may give one away.
        let after = Target::article(principal, new_byline, new_status == Status::Draft);
        policy::decide(principal, Action::EditArticle, Some(after))?;
    }
    Ok(())
}

/// How slugs are made for `principal` when none is sent (see [`Action::ChooseSlug`]).
pub(super) fn made_slugs(principal: &Principal) -> Made {
    if policy::scope(principal.grant, Action::ChooseSlug) == Scope::All {
        Made::FirstFree
    } else {
        Made::Random
    }
}

/// The article as the API shows it after a write (byline names need the related rows).
pub(super) async fn saved(
    state: &AppState,
    record: Record,
    at: DateTime<Utc>,
) -> Result<ArticleSaved, ApiError> {
    let (record, related) = articles::with_relations(&state.db, record).await?;
    Ok(ArticleSaved(Box::new(view(
        record,
        &related,
        Include::default(),
        &state.site,
        at,
    ))))
}

/// How many times a write without `If-Match` is retried when another lands first.
pub(super) const ATTEMPTS: usize = 10;

/// Applies `input` (from a PATCH or a restore) to the article at `key`, honouring
/// `If-Match`; without it, a write that loses a race is retried on the new version.
pub(super) async fn apply(
    state: &AppState,
    principal: &Principal,
    key: &str,
    if_match: Option<&str>,
    change: impl Fn(&Record, DateTime<Utc>) -> Result<ArticleUpdate, ApiError>,
    action: &str,
) -> Result<ArticleSaved, ApiError> {
    let expected = IfMatch::parse(if_match)?;
    let viewer = Viewer::User(principal.clone());
    for _ in 0..ATTEMPTS {
        let at = state.clock.now();
        let current = articles::find_for_write(&state.db, key, visibility(&viewer), at).await?;
        check_if_match(expected.as_ref(), &current)?;
        let input = change(&current, at)?;
        authorize_edit(principal, &current, &input)?;
        let actor = Actor {
            user_id: principal.user_id(),
            at,
            slugs: made_slugs(principal),
        };
        match articles::update(&state.db, current, input, &actor, action).await {
            Ok(record) => return saved(state, record, at).await,
            Err(ApiError::PreconditionFailed(_)) if expected.is_none() => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::conflict(
        "version",
        "the article kept changing while this change was being saved; send it again",
    ))
}
