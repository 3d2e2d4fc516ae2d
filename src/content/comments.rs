//! Readers' comments: posted by anyone on an article that is public now, held as
//! `pending` until an editor approves them (or marks them spam), and listed to
//! readers only once approved. The commenter's email is kept for moderation and
//! never leaves this module's callers in a response.

use chrono::{DateTime, Utc};
use entity::{article, comment};
use poem_openapi::{Enum, Object};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

use super::events::{self, By, EventType};
use super::page::{Cursor, MAX_LIMIT};
use super::slug::Key;
use super::taxonomy::{Page, PageParams};
use super::text::Text;
use super::{begin_write, check_not_blank};
use crate::accounts::users::{check_email, normalize_email};
use crate::error::{ApiError, FieldError};

/// Where a comment stands in moderation.
#[derive(Enum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    /// Waiting for a moderator; not shown to readers.
    Pending,
    /// Shown to readers under the article.
    Approved,
    /// Hidden from readers, kept so the moderators can see what was refused.
    Spam,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Spam => "spam",
        }
    }

    /// The status stored in the database; anything unknown reads as `pending`,
    /// which shows nothing to readers.
    pub fn from_db(s: &str) -> Self {
        match s {
            "approved" => Self::Approved,
            "spam" => Self::Spam,
            _ => Self::Pending,
        }
    }
}

/// A reader's comment on an article.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct CommentCreate {
    /// The name to show beside the comment.
    #[oai(validator(max_length = 100))]
    pub author_name: Text,
    /// The commenter's email, for the moderators only: it is never shown or returned.
    #[oai(validator(max_length = 254))]
    pub email: Text,
    /// The comment, as plain text: blank lines separate paragraphs. No HTML or Markdown
    /// is interpreted; it is shown exactly as written.
    #[oai(validator(max_length = 5000))]
    pub body: Text,
}

/// A moderation decision.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
// The example Swagger UI fills in: `crate::api::examples`.
#[oai(example, skip_serializing_if_is_none)]
pub struct CommentUpdate {
    /// The new status: `approved` shows the comment to readers, `spam` or `pending` hides it.
    pub status: CommentStatus,
}

/// A comment's input once checked: trimmed, the email normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    author_name: String,
    email: String,
    body: String,
}

/// Checks a comment before anything touches the database, reporting every field at
/// fault at once (422).
pub fn check(input: CommentCreate) -> Result<NewComment, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    check_not_blank("author_name", &input.author_name, &mut errors);
    let email = normalize_email(&input.email);
    check_email(&email, &mut errors);
    check_not_blank("body", &input.body, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(NewComment {
        author_name: input.author_name.trim().to_string(),
        email,
        body: input.body.trim().to_string(),
    })
}

/// "Public now": published, or scheduled with its time come, and not in the trash.
fn public_at(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(article::Column::Status.is_in(["published", "scheduled"]))
        .add(article::Column::PublishedAt.lte(at))
        .add(article::Column::DeletedAt.is_null())
}

/// The id of the article `key` (id or slug) names, if it is public at `at`; else the 404.
pub async fn public_article(
    db: &impl ConnectionTrait,
    key: &str,
    at: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    article::Entity::find()
        .select_only()
        .column(article::Column::Id)
        .filter(Key::parse(key).condition(article::Column::Id, article::Column::Slug))
        .filter(public_at(at))
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .ok_or_else(super::articles::not_found)
}

/// Stores a checked comment on the article `key` names (which must be public at
/// `at`), as `pending`, with its `comment.created` event (recorded by nobody: a
/// reader posted it).
pub async fn create(
    db: &DatabaseConnection,
    key: &str,
    input: NewComment,
    at: DateTime<Utc>,
) -> Result<comment::Model, ApiError> {
    let article_id = public_article(db, key, at).await?;
    let txn = begin_write(db).await?;
    let created = comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        article_id: Set(article_id),
        author_name: Set(input.author_name),
        email: Set(input.email),
        body: Set(input.body),
        status: Set(CommentStatus::Pending.as_str().to_string()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let data = events::presenter()?.comment(&created);
    let by = By::new(None, at);
    events::record(&txn, by.change(EventType::CommentCreated, created.id, data)).await?;
    txn.commit().await?;
    Ok(created)
}

/// The event a moderation from `old` to `new` records, if any: approving
/// publishes a comment; marking it spam, or taking an approved one back to
/// pending, removes it. (Spam back to pending changes nothing readers see.)
fn moderation_event(old: CommentStatus, new: CommentStatus) -> Option<EventType> {
    use CommentStatus::{Approved, Pending, Spam};
    match (old, new) {
        (o, Approved) if o != Approved => Some(EventType::CommentApproved),
        (o, Spam) if o != Spam => Some(EventType::CommentRemoved),
        (Approved, Pending) => Some(EventType::CommentRemoved),
        _ => None,
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("No comment has this id.".to_string())
}

/// One comment by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<comment::Model, ApiError> {
    comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// A row that vanished under an update (deleted by a concurrent request) is a 404.
fn gone(err: DbErr) -> ApiError {
    match err {
        DbErr::RecordNotUpdated => not_found(),
        other => other.into(),
    }
}

/// Takes the article's row lock for the rest of `txn`, so that moderations of its
/// comments take turns: each recount then runs after the previous one committed and
/// sees every moderation before it (on PostgreSQL a statement's subquery reads the
/// snapshot taken when the statement started, which waiting on a row lock does not
/// refresh). On SQLite the `BEGIN IMMEDIATE` of [`super::begin_write`] already
/// serialises writers.
async fn lock_article(txn: &impl ConnectionTrait, article_id: Uuid) -> Result<(), DbErr> {
    article::Entity::find_by_id(article_id)
        .select_only()
        .column(article::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(txn)
        .await?;
    Ok(())
}

/// Sets a comment's status and recounts its article, with the moderation's event
/// (see [`moderation_event`]), in one transaction. A comment deleted meanwhile is
/// a 404.
pub async fn set_status(
    db: &DatabaseConnection,
    id: Uuid,
    input: CommentUpdate,
    by: By,
) -> Result<comment::Model, ApiError> {
    let txn = begin_write(db).await?;
    let found = get(&txn, id).await?;
    lock_article(&txn, found.article_id).await?;
    // Read again under the article's lock: a moderation that waited on it sees the
    // status the one before it left.
    let found = get(&txn, id).await?;
    let old = CommentStatus::from_db(&found.status);
    let mut model = found.into_active_model();
    model.status = Set(input.status.as_str().to_string());
    model.updated_at = Set(by.at);
    let updated = model.update(&txn).await.map_err(gone)?;
    recount(&txn, updated.article_id).await?;
    if let Some(event_type) = moderation_event(old, input.status) {
        let data = events::presenter()?.comment(&updated);
        events::record(&txn, by.change(event_type, updated.id, data)).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a comment for good and recounts its article, with `comment.removed`,
/// in one transaction.
pub async fn delete(db: &DatabaseConnection, id: Uuid, by: By) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    let found = get(&txn, id).await?;
    // The same lock order as `set_status` (article, then comment): no deadlock.
    lock_article(&txn, found.article_id).await?;
    let result = comment::Entity::delete_by_id(id).exec(&txn).await?;
    if result.rows_affected == 0 {
        return Err(not_found());
    }
    recount(&txn, found.article_id).await?;
    let data = events::presenter()?.comment(&found);
    events::record(&txn, by.change(EventType::CommentRemoved, found.id, data)).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets `articles.comment_count` to the article's approved comments, so that reads
/// never count. It runs inside each moderation's transaction, after the article's
/// row lock (see [`lock_article`]), so concurrent moderations cannot leave a count
/// taken from an older snapshot.
pub async fn recount(db: &impl ConnectionTrait, article_id: Uuid) -> Result<(), DbErr> {
    let approved = sea_orm::sea_query::Query::select()
        .expr(Expr::col(comment::Column::Id).count())
        .from(comment::Entity)
        .and_where(comment::Column::ArticleId.eq(article_id))
        .and_where(comment::Column::Status.eq(CommentStatus::Approved.as_str()))
        .take();
    article::Entity::update_many()
        .col_expr(
            article::Column::CommentCount,
            Expr::SubQuery(None, Box::new(approved.into())),
        )
        .filter(article::Column::Id.eq(article_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One keyset page of `base` by `created_at` then id (oldest first, or newest
/// first when `newest_first`).
async fn page(
    db: &DatabaseConnection,
    base: Select<comment::Entity>,
    newest_first: bool,
    params: &PageParams,
) -> Result<Page<comment::Model>, ApiError> {
    let sort = if newest_first {
        "-created_at"
    } else {
        "created_at"
    };
    let total = if params.count {
        Some(base.clone().count(db).await?)
    } else {
        None
    };
    let mut query = base;
    if let Some(text) = &params.cursor {
        let cursor = Cursor::decode(text, sort)?;
        let at = cursor
            .value
            .as_deref()
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "cursor",
                    "is not a cursor this API issued for this sort; start again without it",
                )
            })?;
        let created = || Expr::col(comment::Column::CreatedAt);
        let (beyond, beyond_id) = if newest_first {
            (created().lt(at), comment::Column::Id.lt(cursor.id))
        } else {
            (created().gt(at), comment::Column::Id.gt(cursor.id))
        };
        query = query.filter(
            Condition::any()
                .add(beyond)
                .add(Condition::all().add(created().eq(at)).add(beyond_id)),
        );
    }
    let order = if newest_first {
        Order::Desc
    } else {
        Order::Asc
    };
    let limit = params.limit.clamp(1, MAX_LIMIT);
    let mut items = query
        .order_by(comment::Column::CreatedAt, order.clone())
        .order_by(comment::Column::Id, order)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                sort: sort.to_string(),
                value: Some(last.created_at.to_rfc3339()),
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Page {
        items,
        next_cursor,
        total,
    })
}

/// The approved comments of the article `key` names (which must be public at
/// `at`), oldest first.
pub async fn list_approved(
    db: &DatabaseConnection,
    key: &str,
    params: &PageParams,
    at: DateTime<Utc>,
) -> Result<Page<comment::Model>, ApiError> {
    let article_id = public_article(db, key, at).await?;
    let base = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(article_id))
        .filter(comment::Column::Status.eq(CommentStatus::Approved.as_str()));
    page(db, base, false, params).await
}

/// Every comment on a live article, for moderation, newest first, optionally of one
/// status or one article.
pub async fn list_all(
    db: &DatabaseConnection,
    status: Option<CommentStatus>,
    article_id: Option<Uuid>,
    params: &PageParams,
) -> Result<Page<comment::Model>, ApiError> {
    // Comments on articles in the trash wait there with them.
    let mut base = comment::Entity::find().filter(
        comment::Column::ArticleId.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(article::Column::Id)
                .from(article::Entity)
                .and_where(article::Column::DeletedAt.is_null())
                .take(),
        ),
    );
    if let Some(status) = status {
        base = base.filter(comment::Column::Status.eq(status.as_str()));
    }
    if let Some(id) = article_id {
        base = base.filter(comment::Column::ArticleId.eq(id));
    }
    let found = page(db, base, true, params).await?;
    // An empty page for an id naming no live article is a typo, not "no comments".
    if let Some(id) = article_id
        && found.items.is_empty()
        && article::Entity::find()
            .filter(article::Column::Id.eq(id))
            .filter(article::Column::DeletedAt.is_null())
            .count(db)
            .await?
            == 0
    {
        return Err(ApiError::unprocessable(
            "article",
            format!("no article outside the trash has the id `{id}`"),
        ));
    }
    Ok(found)
}

/// A plain-text body as HTML: every character that means something in HTML
/// escaped, paragraphs (separated by blank lines) as `<p>`, line breaks as `<br>`.
pub fn render_html(body: &str) -> String {
    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
        .iter()
        .map(|lines| {
            let inner: Vec<String> = lines.iter().map(|l| escape(l)).collect();
            format!("<p>{}</p>", inner.join("<br>"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_render_as_escaped_paragraphs() {
        assert_eq!(
            render_html("Hi <b>\"you\"</b> & 'me'\r\nsecond line\n\n  \n\nNext"),
            "<p>Hi &lt;b&gt;&quot;you&quot;&lt;/b&gt; &amp; &#39;me&#39;<br>second line</p>\n<p>Next</p>"
        );
        assert_eq!(render_html("one"), "<p>one</p>");
        assert_eq!(render_html(""), "");
    }

    #[test]
    fn input_is_trimmed_and_checked() {
        let ok = check(CommentCreate {
            author_name: " Ann ".into(),
            email: " Ann@Mail.Example ".into(),
            body: "\n Hello \n".into(),
        })
        .unwrap();
        assert_eq!(
            ok,
            NewComment {
                author_name: "Ann".into(),
                email: "ann@mail.example".into(),
                body: "Hello".into(),
            }
        );
        let err = check(CommentCreate {
            author_name: "  ".into(),
            email: "nope".into(),
            body: "\n\t".into(),
        })
        .unwrap_err();
        let fields: Vec<String> = err
            .problem()
            .errors
            .unwrap()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["author_name", "email", "body"]);
    }

    #[test]
    fn stored_statuses_read_back() {
        for s in [
            CommentStatus::Pending,
            CommentStatus::Approved,
            CommentStatus::Spam,
        ] {
            assert_eq!(CommentStatus::from_db(s.as_str()), s);
        }
        assert_eq!(CommentStatus::from_db("other"), CommentStatus::Pending);
    }
}
